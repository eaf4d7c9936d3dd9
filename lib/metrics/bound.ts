/**
 * prom-client series bound to one label set, for the request path.
 *
 * A prom-client child (`counter.labels({...})`) still validates its labels and rebuilds their
 * hash string on every `inc()`/`observe()`, and a histogram child allocates two objects per
 * observation: about 1.5 KB of garbage per proxied request for the two series it touches. A bound
 * series finds its entry in the metric's own table once and then updates it in place, exactly as
 * prom-client would; whenever the entry is not there (first use, or the series was removed or
 * reset since), it goes through prom-client's public method, which creates it again, and then
 * binds to the new entry. The exposition is prom-client's, unchanged.
 *
 * This reads prom-client's internal `hashMap` (and a histogram's `upperBounds`), which is why the
 * dependency is pinned to one exact version in deno.json; tests/lib/metrics/bound_test.ts checks
 * the result against prom-client's own children.
 *
 * @module
 */

import type { Counter, Histogram, LabelValues } from "prom-client";

/** prom-client's table of series, keyed by its label hash (internal, prom-client 15.1). */
type Table<E> = Record<string, E | undefined>;

/** A counter's series (internal shape). */
interface CounterEntry {
  value: number;
  labels: Readonly<Record<string, string | number>>;
}

/** A histogram's series (internal shape). */
interface HistogramEntry {
  labels: Readonly<Record<string, string | number>>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/** The key under which `table` holds the series with exactly `labels`, if it does. */
function keyOf<E extends { labels: Readonly<Record<string, string | number>> }>(
  table: Table<E>,
  labels: Readonly<Record<string, string | number>>,
): string | undefined {
  const names = Object.keys(labels);
  for (const key in table) {
    const l = table[key]!.labels;
    if (names.every((n) => l[n] === labels[n]) && Object.keys(l).length === names.length) return key;
  }
  return undefined;
}

/**
 * One series of a counter.
 *
 * @example
 * ```ts
 * import { Counter, Registry } from "prom-client";
 * import { BoundCounter } from "./bound.ts";
 * const c = new Counter({ name: "x_total", help: "x", labelNames: ["code"], registers: [new Registry()] });
 * const ok = new BoundCounter(c, { code: "200" });
 * ok.inc(); // x_total{code="200"} 1
 * ```
 */
export class BoundCounter {
  readonly #metric: Counter<string>;
  readonly #labels: LabelValues<string>;
  #key: string | undefined;

  constructor(metric: Counter<string>, labels: LabelValues<string>) {
    this.#metric = metric;
    this.#labels = labels;
  }

  /** Add one. */
  inc(): void {
    const table = (this.#metric as unknown as { hashMap: Table<CounterEntry> }).hashMap;
    const entry = this.#key === undefined ? undefined : table[this.#key];
    if (entry !== undefined) {
      entry.value += 1;
      return;
    }
    this.#metric.inc(this.#labels, 1);
    this.#key = keyOf(table, this.#labels as Record<string, string | number>);
  }
}

/**
 * One series of a histogram.
 *
 * @example
 * ```ts
 * import { Histogram, Registry } from "prom-client";
 * import { BoundHistogram } from "./bound.ts";
 * const h = new Histogram({ name: "d_seconds", help: "d", labelNames: ["backend"], registers: [new Registry()] });
 * new BoundHistogram(h, { backend: "a" }).observe(0.004);
 * ```
 */
export class BoundHistogram {
  readonly #metric: Histogram<string>;
  readonly #labels: LabelValues<string>;
  #key: string | undefined;

  constructor(metric: Histogram<string>, labels: LabelValues<string>) {
    this.#metric = metric;
    this.#labels = labels;
  }

  /** Record one observation (a value that is not finite throws, as prom-client does). */
  observe(value: number): void {
    const metric = this.#metric as unknown as { hashMap: Table<HistogramEntry>; upperBounds: number[] };
    const table = metric.hashMap;
    const entry = this.#key === undefined ? undefined : table[this.#key];
    if (entry === undefined || !Number.isFinite(value)) {
      this.#metric.observe(this.#labels, value);
      this.#key = keyOf(metric.hashMap, this.#labels as Record<string, string | number>);
      return;
    }
    entry.sum += value;
    entry.count += 1;
    const bounds = metric.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        entry.bucketValues[bounds[i]] += 1;
        return;
      }
    }
  }
}

/**
 * The `lb_requests_total` series of one service, backend and strategy, by method, code and
 * protocol: nested maps, so counting a request builds no key string.
 */
export class RequestCounters {
  readonly #metric: Counter<string>;
  readonly #base: Readonly<Record<string, string>>;
  readonly #byMethod = new Map<string, Map<number, Map<string, BoundCounter>>>();

  /**
   * @param metric the counter, labelled by the keys of `base` and `method`, `code`, `protocol`
   * @param base the fixed labels (`service`, `backend`, `strategy`)
   */
  constructor(metric: Counter<string>, base: Readonly<Record<string, string>>) {
    this.#metric = metric;
    this.#base = base;
  }

  /** The series for one method label, status code and protocol label. */
  get(method: string, code: number, protocol: string): BoundCounter {
    let byCode = this.#byMethod.get(method);
    if (!byCode) this.#byMethod.set(method, byCode = new Map());
    let byProtocol = byCode.get(code);
    if (!byProtocol) byCode.set(code, byProtocol = new Map());
    let series = byProtocol.get(protocol);
    if (!series) {
      series = new BoundCounter(this.#metric, { ...this.#base, method, code: String(code), protocol });
      byProtocol.set(protocol, series);
    }
    return series;
  }
}
