/**
 * One Prometheus exposition from several isolates' registries (`workers` > 1): every isolate keeps
 * its own prom-client registry, and the admin listener's `/metrics` merges them with prom-client's
 * `AggregatorRegistry.aggregate`, metric by metric as each metric's `aggregator` says: counters,
 * histograms and the in-flight gauges are summed; gauges every isolate mirrors from one owner
 * (`lb_backend_up`, `lb_backend_state`, `lb_service_healthy_backends`, `lb_strategy_info`,
 * `lb_build_info`, `lb_config_last_reload_successful`) take the owner's value (`first`).
 *
 * Two rules keep a merged counter from ever going backwards, which Prometheus would read as a
 * reset and count the whole value again:
 *
 * - an isolate that does not answer in time contributes its last answer (stale, never smaller);
 * - an isolate that ends (a worker that crashed and was restarted) leaves its last answer's
 *   counters and histograms behind as "retired" counts, added to every later scrape while their
 *   service and backend exist. Its increments after that answer are lost: undercounted, never
 *   counted twice.
 *
 * @module
 */

import { AggregatorRegistry, Registry } from "prom-client";

/** One metric as `registry.getMetricsAsJSON()` gives it (and as it crosses `postMessage`). */
export interface MetricJson {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: string;
  readonly values: readonly {
    readonly value: number;
    readonly labels: Readonly<Record<string, string | number | undefined>>;
    readonly metricName?: string;
  }[];
}

/** Options for {@linkcode MergedMetrics}. */
export interface MergedMetricsOptions {
  /**
   * Whether a retired series still belongs in the exposition: false once the service or backend
   * its labels name is gone, so a removed backend's series go as they do with one isolate.
   */
  readonly keep: (labels: Readonly<Record<string, string | number | undefined>>) => boolean;
}

/** Counters and histograms only: what a retired isolate leaves behind. */
const MONOTONIC = new Set(["counter", "histogram"]);

/**
 * Merges the owner's metrics with every worker's; see the module documentation.
 *
 * @example
 * ```ts
 * import { Counter, Registry } from "prom-client";
 * import { MergedMetrics } from "./merge.ts";
 * const [a, b] = [new Registry(), new Registry()];
 * for (const r of [a, b]) new Counter({ name: "x_total", help: "x", registers: [r] }).inc();
 * const merged = new MergedMetrics({ keep: () => true });
 * await merged.exposition(await a.getMetricsAsJSON(), new Map([[1, await b.getMetricsAsJSON()]])); // x_total 2
 * ```
 */
export class MergedMetrics {
  readonly #keep: MergedMetricsOptions["keep"];
  #last = new Map<number, readonly MetricJson[]>();
  #retired: readonly MetricJson[] = [];

  constructor(options: MergedMetricsOptions) {
    this.#keep = options.keep;
  }

  /** The content type of {@linkcode MergedMetrics.exposition}'s text. */
  get contentType(): string {
    return Registry.PROMETHEUS_CONTENT_TYPE;
  }

  /**
   * The merged exposition of `own` (the owner's registry, first: `first` metrics take its value)
   * and each worker's answer by worker number; `undefined` (no answer in time) uses its last one.
   * Answers are kept: they must be copies (as `postMessage` makes them), not a registry's own
   * objects, which change with every count.
   */
  async exposition(
    own: readonly MetricJson[],
    workers: ReadonlyMap<number, readonly MetricJson[] | undefined>,
  ): Promise<string> {
    const parts: (readonly MetricJson[])[] = [own];
    for (const [worker, fresh] of workers) {
      if (fresh) this.#last.set(worker, fresh);
      const known = this.#last.get(worker);
      if (known) parts.push(known);
    }
    parts.push(this.#retiredNow());
    return await AggregatorRegistry.aggregate(parts as MetricJson[][]).metrics();
  }

  /** Worker `worker` ended: keep the counts of its last answer (see the module documentation). */
  async retire(worker: number): Promise<void> {
    const last = this.#last.get(worker);
    this.#last.delete(worker);
    if (!last) return;
    const monotonic = last.filter((m) => MONOTONIC.has(m.type));
    const sum = AggregatorRegistry.aggregate([this.#retiredNow(), monotonic] as MetricJson[][]);
    this.#retired = (await sum.getMetricsAsJSON()) as unknown as MetricJson[];
  }

  /** The retired counts whose series still exist. */
  #retiredNow(): readonly MetricJson[] {
    return this.#retired.map((m) => ({ ...m, values: m.values.filter((v) => this.#keep(v.labels)) }));
  }
}
