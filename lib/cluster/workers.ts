/**
 * The owner's side of `workers` > 1: it starts the worker isolates, keeps them in step, and
 * answers the admin API for all of them (it implements {@linkcode AdminCluster}).
 *
 * - Backend state is the owner's. Every change (a health check, a drain, an ejection, discovery)
 *   schedules one snapshot to every worker (lib/cluster/snapshot.ts), coalesced per tick; a change
 *   made through the admin API or a reload is answered only once every worker acknowledged it
 *   ({@linkcode WorkerSet.settle}).
 * - A worker that wants a backend ejected asks; the owner ejects it (or not: it alone applies
 *   `max_ejected_percent`) and the next snapshot carries the ejection to everyone.
 * - `/metrics` and the `/api` totals ask every worker and merge the answers with the owner's own
 *   (lib/metrics/merge.ts, lib/cluster/totals.ts).
 * - A worker that crashes is started again (after 250 ms, doubling while crashes repeat within a
 *   minute, at most 30 s): from the owner's current config and state, on the same addresses. Its
 *   open connections are lost, as with a crashed NGINX worker; its counts so far stay in the
 *   merged metrics.
 *
 * @module
 */

import type { ResourceSample, ResourceStats } from "../../algorithms/mod.ts";
import { type AdminCluster, type AdminTotals, isolateStatus, type WorkerStatus } from "../admin/mod.ts";
import { backoffDelay, type Logger } from "../base/mod.ts";
import type { Config } from "../config/mod.ts";
import { MergedMetrics, type MetricJson, type StatsWindow } from "../metrics/mod.ts";
import type { ServiceSet } from "../service/mod.ts";
import type { Registry } from "prom-client";
import { Link } from "./link.ts";
import type { FromWorker, PemPair, WorkerReport } from "./protocol.ts";
import { snapshotOf } from "./snapshot.ts";
import { TotalsMerge } from "./totals.ts";

/** Options for {@linkcode WorkerSet}. */
export interface WorkerSetOptions {
  /** Isolates in all, the owner included (`workers`). */
  readonly isolates: number;
  /** The worker module (lib/server/worker.ts). */
  readonly url: URL;
  /** The owner's services. */
  readonly services: ServiceSet;
  /** The owner's registry, merged first into `/metrics`. */
  readonly registry: Registry;
  /** The owner's window of requests no route matched. */
  readonly unrouted: StatsWindow;
  /** Container samples for `least_resources`, by `service/backend`, passed on every second. */
  readonly stats: ResourceStats;
  /** What a worker starts from: the config in effect (with the bound ports) and the TLS pair served. */
  readonly start: () => { readonly config: Config; readonly pair?: PemPair };
  readonly log: Logger;
  /** The owner's monotonic clock (`performance.now`: workers keep time on it). */
  readonly now: () => number;
  /** How long a worker may take to answer a question. @default 5000 */
  readonly answerMs?: number;
}

interface Slot {
  readonly worker: number;
  link?: Link;
  isolate?: Worker;
  restarts: number;
  /** When it last crashed, for the backoff. */
  crashes: number[];
  timer?: ReturnType<typeof setTimeout>;
}

/** The worker isolates, as the owner runs them; see the module documentation. */
export class WorkerSet implements AdminCluster {
  readonly #o: WorkerSetOptions;
  readonly #slots: Slot[] = [];
  readonly #metrics: MergedMetrics;
  readonly #totals = new TotalsMerge();
  readonly #answerMs: number;
  #scheduled = false;
  #stopping = false;
  #samples: ReturnType<typeof setInterval> | undefined;

  constructor(options: WorkerSetOptions) {
    this.#o = options;
    this.#answerMs = options.answerMs ?? 5_000;
    for (let worker = 1; worker < options.isolates; worker++) {
      this.#slots.push({ worker, restarts: 0, crashes: [] });
    }
    this.#metrics = new MergedMetrics({ keep: (labels) => this.#known(labels.service, labels.backend) });
  }

  /**
   * Start every worker and wait until each listens.
   *
   * @throws {Error} with the first worker's reason (an address it could not bind, ...); every
   *   worker started is stopped again
   */
  async start(): Promise<void> {
    try {
      await Promise.all(this.#slots.map((slot) => this.#spawn(slot)));
    } catch (e) {
      await this.shutdown(0);
      throw e;
    }
    this.#samples = setInterval(() => this.#passSamples(), 1_000);
  }

  /** Backend state changed: send every worker a snapshot, once for everything changed this tick. */
  changed(): void {
    if (this.#scheduled || this.#stopping) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      void this.#sync(false);
    });
  }

  /** Send every worker the owner's state now and resolve once each has applied it. */
  async settle(): Promise<void> {
    await this.#sync(false);
  }

  /** After a reload: send the config in effect and the state, and wait until every worker applied both. */
  async reloaded(): Promise<void> {
    await this.#sync(true);
  }

  /**
   * Every worker serves new TLS connections with `pair`.
   *
   * @returns one line per worker that could not (the owner's own listener rotated already)
   */
  async rotate(pair: PemPair): Promise<string[]> {
    const results = await Promise.all(
      this.#live().map((l) =>
        l.ask({ type: "rotate", pair }, this.#answerMs).then(
          () => "",
          (e) => `tls: worker ${l.worker}: ${(e as Error).message}`,
        )
      ),
    );
    return results.filter(Boolean);
  }

  /** Every worker reopens its access log file (SIGUSR1, after logrotate moved it). */
  async reopenLogs(): Promise<void> {
    await Promise.all(
      this.#live().map((l) =>
        l.ask({ type: "reopen" }, this.#answerMs).catch((e) =>
          this.#o.log("warn", "worker did not reopen its access log", {
            worker: l.worker,
            error: (e as Error).message,
          })
        )
      ),
    );
  }

  async metrics(): Promise<{ text: string; contentType: string }> {
    const own = (await this.#o.registry.getMetricsAsJSON()) as unknown as MetricJson[];
    const answers = await this.#askAll<MetricJson[]>("metrics");
    return { text: await this.#metrics.exposition(own, answers), contentType: this.#metrics.contentType };
  }

  async totals(): Promise<AdminTotals> {
    await this.#refreshReports();
    return this.#totals.totals(this.#o.services, this.#o.unrouted, this.#o.now);
  }

  async workers(): Promise<WorkerStatus[]> {
    await this.#refreshReports();
    const restarts = new Map(this.#slots.map((s) => [s.worker, s.restarts]));
    return [
      isolateStatus(this.#o.services, 0),
      ...this.#totals.reports().map((r) => ({ ...r.status, restarts: restarts.get(r.status.worker) ?? 0 })),
    ].sort((a, b) => a.worker - b.worker);
  }

  /**
   * Stop worker `worker` and start it again, as after a crash but at once; resolves when the new
   * one listens.
   */
  async restart(worker: number): Promise<void> {
    const slot = this.#slots.find((s) => s.worker === worker);
    if (!slot) throw new RangeError(`Cannot restart worker ${worker}: workers are 1..${this.#slots.length}`);
    await this.#end(slot, "restarted on request");
    slot.restarts++;
    await this.#spawn(slot);
  }

  /**
   * Every worker stops accepting and lets its in-flight requests finish for up to `timeoutMs`;
   * resolves when all have, then ends them.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#samples);
    for (const s of this.#slots) clearTimeout(s.timer);
    await Promise.all(
      this.#live().map((l) =>
        l.ask({ type: "shutdown" }, timeoutMs + 2_000).catch((e) =>
          this.#o.log("warn", "worker did not stop in time", {
            worker: l.worker,
            error: (e as Error).message,
          })
        )
      ),
    );
    await Promise.all(this.#slots.map((s) => this.#end(s, "shutting down")));
  }

  #live(): Link[] {
    return this.#slots.flatMap((s) => s.link ? [s.link] : []);
  }

  async #sync(withConfig: boolean): Promise<void> {
    const snapshot = snapshotOf(this.#o.services);
    const config = withConfig ? this.#o.start().config : undefined;
    await Promise.all(
      this.#live().map((l) =>
        l.ask({ type: "sync", snapshot, config }, this.#answerMs).catch((e) => {
          if (!this.#stopping) {
            this.#o.log("warn", "worker did not take the state in time", {
              worker: l.worker,
              error: (e as Error).message,
            });
          }
        })
      ),
    );
  }

  /** Ask every live worker; a worker that does not answer in time maps to undefined. */
  async #askAll<T>(type: "metrics" | "report"): Promise<Map<number, T | undefined>> {
    const answers = await Promise.all(
      this.#live().map(async (l) =>
        [l.worker, await l.ask<T>({ type }, this.#answerMs).catch(() => undefined)] as const
      ),
    );
    return new Map(answers);
  }

  async #refreshReports(): Promise<void> {
    for (const [worker, report] of await this.#askAll<WorkerReport>("report")) {
      this.#totals.update(worker, report);
    }
  }

  /** Whether a series of `service` and `backend` still exists on the owner. */
  #known(service: unknown, backend: unknown): boolean {
    if (typeof service !== "string" || service === "none") return true;
    const s = this.#o.services.get(service);
    if (!s) return false;
    if (typeof backend !== "string" || backend === "none") return true;
    return s.pool.get(backend) !== undefined || s.pool.retiring().some((b) => b.name === backend);
  }

  /** Start the worker of `slot`; resolves when it listens, rejects with why it could not. */
  #spawn(slot: Slot): Promise<void> {
    const { worker } = slot;
    const isolate = new Worker(this.#o.url, { type: "module", name: `lb-worker-${worker}` });
    let listening = false;
    let settle!: { ok: () => void; fail: (e: Error) => void };
    const ready = new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`worker ${worker} did not listen within 30s`)), 30_000);
      settle = {
        ok: () => (listening = true, clearTimeout(timer), ok()),
        fail: (e) => (clearTimeout(timer), fail(e)),
      };
    });
    const link = new Link(worker, isolate, (m) => this.#heard(worker, m, settle));
    slot.isolate = isolate;
    slot.link = link;
    isolate.onerror = (event) => {
      event.preventDefault();
      // Before it listens, the caller of #spawn hears of it; after, it is a crash.
      if (listening) void this.#crashed(slot, isolate, event.message);
      else settle.fail(new Error(`worker ${worker}: ${event.message}`));
    };
    const { config, pair } = this.#o.start();
    link.post({
      type: "init",
      worker,
      config,
      pair,
      snapshot: snapshotOf(this.#o.services),
      timeOrigin: performance.timeOrigin,
    });
    return ready.catch(async (e) => {
      await this.#end(slot, (e as Error).message);
      throw e;
    });
  }

  #heard(worker: number, m: FromWorker, ready: { ok: () => void; fail: (e: Error) => void }): void {
    if (m.type === "ready") return ready.ok();
    if (m.type === "failed") return ready.fail(new Error(m.error));
    if (m.type === "log") return this.#o.log(m.level, m.message, { ...m.fields, worker });
    if (m.type === "eject") {
      const s = this.#o.services.get(m.service);
      const b = s?.pool.get(m.backend);
      if (s && b && b.url === m.url) s.outliers.eject(b);
    }
  }

  /** End the worker of `slot` (if it is still that isolate) and keep its counts. */
  async #end(slot: Slot, reason: string, isolate = slot.isolate): Promise<void> {
    if (!isolate || slot.isolate !== isolate) return;
    slot.link?.end(`worker ${slot.worker} ended: ${reason}`);
    slot.link = slot.isolate = undefined;
    isolate.terminate();
    await this.#metrics.retire(slot.worker);
    this.#totals.retire(slot.worker);
  }

  async #crashed(slot: Slot, isolate: Worker, reason: string): Promise<void> {
    if (slot.isolate !== isolate) return;
    await this.#end(slot, reason, isolate);
    this.#respawnLater(slot, "worker crashed; starting it again", reason);
  }

  /** Start `slot`'s worker again after the backoff its recent crashes give, until it listens. */
  #respawnLater(slot: Slot, message: string, reason: string): void {
    if (this.#stopping) return;
    const now = this.#o.now();
    slot.crashes = [...slot.crashes.filter((t) => now - t < 60_000), now];
    const delay = backoffDelay(slot.crashes.length);
    this.#o.log("error", message, { worker: slot.worker, reason, in_ms: delay });
    slot.timer = setTimeout(() => {
      if (this.#stopping) return;
      slot.restarts++;
      this.#spawn(slot).catch((e) =>
        this.#respawnLater(slot, "worker could not start again", (e as Error).message)
      );
    }, delay);
  }

  /** Pass the owner's container samples to every worker (only when some backend names a container). */
  #passSamples(): void {
    const samples: [string, ResourceSample][] = [];
    for (const s of this.#o.services.all()) {
      for (const b of s.pool.all()) {
        if (b.container === undefined) continue;
        const key = `${s.name}/${b.name}`;
        const sample = this.#o.stats.get(key);
        if (sample) samples.push([key, sample]);
      }
    }
    if (samples.length === 0) return;
    for (const l of this.#live()) l.post({ type: "samples", samples });
  }
}
