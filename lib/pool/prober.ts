/**
 * Prequal's asynchronous load probes (Wydrowski et al., NSDI 2024): while the service's strategy
 * reads probes (`prequal`), every routed request triggers `probe_rate` probes to random eligible
 * backends, sent in the background through an upstream client of the prober's own; their answers
 * fill the probe pool (lib/pool/probe_pool.ts) the next picks choose from.
 *
 * - **What an answer carries**: the backend's requests in flight (RIF) and its latency estimate,
 *   from the answer's `Endpoint-Load-Metrics` header (`named_metrics.rif`,
 *   `named_metrics.latency_ms`) when the backend reports them, else measured here: the requests
 *   this proxy has in flight to it, and the probe's own time to response headers. Only the backend
 *   knows its load from every client, so measured values are a fallback that sees this proxy alone.
 * - **Bounded share**: probes never exceed `max_probe_share` of what the service's backends receive
 *   (probes and requests). Each routed request earns `share / (1 - share)` probes of allowance,
 *   held to at most one probe's worth beyond that, so the bound holds over the whole run and no
 *   quiet period can be saved up for a burst. A probe the rate asks for and the allowance refuses is
 *   counted as skipped (`budget`). Without requests there are no probes at all.
 * - **One at a time per backend**: a backend with a probe in flight is not probed again until it
 *   answers (skipped as `busy` when every eligible backend has one), so a stalled backend never
 *   accumulates probes.
 * - A probe times out after `max_age` (its answer would be dropped by then anyway). A failed probe,
 *   or a status outside `health_check.expected_status`, removes the backend's answer from the pool;
 *   health stays the health checker's business.
 *
 * @module
 */

import type { HealthCheckConfig, PrequalConfig } from "../config/mod.ts";
import type { ProbeSkip } from "../metrics/mod.ts";
import { loadReportHeader, UpstreamClient } from "../upstream/mod.ts";
import type { Backend } from "./backend.ts";
import type { LoadReports } from "./load_reports.ts";
import type { Pool } from "./pool.ts";
import type { ProbePool } from "./probe_pool.ts";
import { probeRequest } from "./probe_request.ts";

/** Where the prober reports what it did (the service's load metrics). */
export interface ProbeCounters {
  probe(backend: string, ok: boolean): void;
  skipped(reason: ProbeSkip): void;
}

/** What a {@linkcode Prober} works with. */
export interface ProberOptions {
  readonly pool: Pool;
  readonly probes: ProbePool;
  readonly loads: LoadReports;
  readonly counters: ProbeCounters;
  readonly config: PrequalConfig;
  readonly healthCheck: HealthCheckConfig;
  /** Monotonic clock in ms. */
  readonly now: () => number;
  /** Uniform in [0, 1): which backends are probed. */
  readonly random: () => number;
}

/** The prober's running totals, for tests and the admin API. */
export interface ProbeTotals {
  /** Requests routed while probing. */
  readonly requests: number;
  /** Probes sent. */
  readonly sent: number;
  /** Probes due but not sent, for either reason. */
  readonly skipped: number;
}

/** Probes allowed per routed request by a share of all traffic: `share / (1 - share)`. */
export function probesPerRequest(maxProbeShare: number): number {
  return maxProbeShare / (1 - maxProbeShare);
}

/**
 * Answers per request the pool should hold in reserve: each answer may route this many times the
 * uses requests consume. Eight rather than two (as before), because `prequal` follows its own
 * requests to a backend live (RIF from the answer's other clients plus this proxy's in flight now,
 * latency read at that RIF), so an answer does not grow stale with each use, and a pool that runs
 * dry of the fast backends' answers sends requests to whatever is left in it, typically the slow
 * backend nobody picked (measured: `one-slow` p99 132-140 ms with two uses per answer, 54-83 with
 * eight; docs/strategies.md).
 */
export const ANSWER_RESERVE = 8;

/**
 * Requests one probe answer may route: {@linkcode ANSWER_RESERVE} times the uses requests
 * consume. Each request uses one answer and brings `r` new ones (`r`: the probe rate, capped by
 * the share), so `⌈8 / r⌉`; max_age still bounds how long an answer is trusted.
 */
export function reuseLimit(config: PrequalConfig): number {
  const r = Math.min(config.probeRate, probesPerRequest(config.maxProbeShare));
  return Math.max(1, Math.ceil(ANSWER_RESERVE / r));
}

/** Draws before falling back to a scan when looking for a backend without a probe in flight. */
const DRAWS = 3;
/** Tolerance for the allowance's floating-point sums (shares like 0.3 are not exact in binary). */
const EPSILON = 1e-9;

/** Sends the probes of one service; see the module documentation. */
export class Prober {
  #o: ProberOptions;
  #config: PrequalConfig;
  #healthCheck: HealthCheckConfig;
  #client: UpstreamClient;
  #inFlight = new Set<Backend>();
  #due = 0;
  #allowance = 0;
  #requests = 0;
  #sent = 0;
  #skipped = 0;
  #stopped = false;

  constructor(options: ProberOptions) {
    this.#o = options;
    this.#config = options.config;
    this.#healthCheck = options.healthCheck;
    this.#client = new UpstreamClient({ now: options.now });
    this.configure(options.config, options.healthCheck);
  }

  /** New settings (reload): the pool's limits change at once, the next probe uses the rest. */
  configure(config: PrequalConfig, healthCheck: HealthCheckConfig): void {
    this.#config = config;
    this.#healthCheck = healthCheck;
    this.#o.probes.configure({ size: config.poolSize, maxAgeMs: config.maxAgeMs, reuse: reuseLimit(config) });
  }

  /** Running totals since start. */
  get totals(): ProbeTotals {
    return { requests: this.#requests, sent: this.#sent, skipped: this.#skipped };
  }

  /** Before a pick: answers past `max_age` leave the pool. */
  beforePick(): void {
    this.#o.probes.expire();
  }

  /** After a pick routed a request to `backend`: count it on its answer, then send the probes due. */
  afterPick(backend: Backend): void {
    this.#o.probes.use(backend);
    if (this.#stopped) return;
    this.#requests++;
    const ratio = probesPerRequest(this.#config.maxProbeShare);
    this.#allowance = Math.min(this.#allowance + ratio, Math.max(1, ratio));
    this.#due += this.#config.probeRate;
    while (this.#due >= 1 - EPSILON) {
      this.#due -= 1;
      if (this.#allowance < 1 - EPSILON) {
        this.#skip("budget");
        continue;
      }
      const target = this.#target();
      if (target === undefined) {
        this.#skip("busy");
        continue;
      }
      this.#allowance -= 1;
      this.#sent++;
      void this.#probe(target);
    }
  }

  /** The strategy stopped reading probes: forget every answer (a later switch back starts afresh). */
  reset(): void {
    this.#o.probes.clear();
  }

  /** No more probes; answers still on their way are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#client.close();
  }

  #skip(reason: ProbeSkip): void {
    this.#skipped++;
    this.#o.counters.skipped(reason);
  }

  /** A random eligible backend without a probe in flight, or undefined when each has one. */
  #target(): Backend | undefined {
    const eligible = this.#o.pool.eligible();
    const n = eligible.length;
    if (n === 0) return undefined;
    for (let i = 0; i < DRAWS; i++) {
      const b = eligible[Math.min(n - 1, Math.floor(this.#o.random() * n))];
      if (!this.#inFlight.has(b)) return b;
    }
    const idle = eligible.filter((b) => !this.#inFlight.has(b));
    return idle.length === 0
      ? undefined
      : idle[Math.min(idle.length - 1, Math.floor(this.#o.random() * idle.length))];
  }

  async #probe(backend: Backend): Promise<void> {
    const { now, probes, loads, counters, pool } = this.#o;
    this.#inFlight.add(backend);
    const started = now();
    const timeout = this.#config.maxAgeMs;
    const path = this.#config.probePath ?? this.#healthCheck.path;
    const r = await this.#client.send(
      backend,
      probeRequest(backend, path, "lb-prequal-probe"),
      { connectMs: timeout, requestMs: timeout },
      () => {},
    );
    this.#inFlight.delete(backend);
    if (r.ok && r.body instanceof ReadableStream) await r.body.cancel().catch(() => {});
    if (this.#stopped || pool.get(backend.name) !== backend) return;
    const ok = r.ok && this.#healthCheck.expectedStatus.some(([lo, hi]) => r.status >= lo && r.status <= hi);
    counters.probe(backend.name, ok);
    if (!ok) return probes.drop(backend);
    const latencyMs = now() - started;
    const header = loadReportHeader(r.headers);
    const named = header === undefined ? undefined : loads.record(backend, header)?.namedMetrics;
    probes.add(backend, named?.rif ?? backend.inFlight, named?.latency_ms ?? latencyMs);
  }
}
