/**
 * What a demo backend reports of its own load, in the `Endpoint-Load-Metrics` header (ORCA TEXT)
 * of every response, `/health` included:
 *
 * ```
 * Endpoint-Load-Metrics: TEXT cpu_utilization=0.412, named_metrics.rif=5, named_metrics.latency_ms=41.3
 * ```
 *
 * - `named_metrics.rif`: requests in flight on the served endpoints (`/`, `/echo`, `/bytes`), those
 *   waiting for a capacity slot included: every client's, not one proxy's.
 * - `named_metrics.latency_ms`: the latency a request arriving now should expect, estimated as
 *   Prequal's servers do (Wydrowski et al., NSDI 2024): the median latency of the recent requests
 *   that found the same number in flight when they arrived (the nearest number seen when there are
 *   none yet). Absent until a request has completed.
 * - `cpu_utilization`: the process's CPU time (user + system, from `process.cpuUsage()`) over the
 *   last half second, divided by the cores available (`navigator.hardwareConcurrency`). Deno has no
 *   per-thread or per-server CPU clock, so this is the whole process's: backends started together
 *   in one process (`deno task demo`, `deno task compare`) report the same figure, which includes
 *   the load generator's work in `compare`; a backend in its own process or container (`deno task
 *   backend`, `docker compose`) reports its own.
 *
 * @module
 */

import { formatLoadReport } from "../../lib/upstream/mod.ts";

/** Latencies kept per in-flight count. */
const PER_BUCKET = 16;
/** In-flight counts tracked separately; above this they share the last bucket. */
const BUCKETS = 64;
/** How long one CPU measurement spans, in milliseconds. */
const CPU_WINDOW_MS = 500;

/** Counts a backend's requests in flight and reports them; see the module documentation. */
export interface LoadTracker {
  /** Requests in flight now. */
  readonly inFlight: number;
  /** A served request arrived; returns the count it found in flight, to pass to `depart`. */
  arrive(): number;
  /** That request is answered after `latencyMs`. */
  depart(found: number, latencyMs: number): void;
  /** The latency a request arriving now should expect, ms; undefined before any completed. */
  estimate(): number | undefined;
  /** The `Endpoint-Load-Metrics` value now. */
  header(): string;
}

/** Clocks for {@linkcode createLoadTracker}. */
export interface LoadTrackerClocks {
  /** Monotonic wall clock, ms. */
  readonly now: () => number;
  /** CPU time the process has used, ms. */
  readonly cpuTime: () => number;
  /** Cores the process may use. @default navigator.hardwareConcurrency */
  readonly cores?: number;
}

/**
 * Create a tracker.
 *
 * @example Usage
 * ```ts
 * import { createLoadTracker } from "./load_report.ts";
 * const load = createLoadTracker({ now: () => performance.now(), cpuTime: () => 0 });
 * const found = load.arrive();
 * load.depart(found, 20);
 * load.header(); // "TEXT named_metrics.rif=0, named_metrics.latency_ms=20"
 * ```
 */
export function createLoadTracker(clocks: LoadTrackerClocks): LoadTracker {
  const { now, cpuTime } = clocks;
  const cores = Math.max(1, clocks.cores ?? navigator.hardwareConcurrency ?? 1);
  const buckets: number[][] = Array.from({ length: BUCKETS }, () => []);
  const next = new Array<number>(BUCKETS).fill(0); // ring positions
  let inFlight = 0;
  let cpu: number | undefined;
  // The first window starts with the first report, not at creation: a backend reads its clock
  // only when a request comes (tests of the backend count those reads).
  let windowStart: { at: number; cpu: number } | undefined;

  /** The CPU share of the last full window, refreshed when a window has passed. */
  function cpuUtilization(): number | undefined {
    const t = now();
    if (windowStart === undefined) windowStart = { at: t, cpu: cpuTime() };
    else if (t - windowStart.at >= CPU_WINDOW_MS) {
      const used = cpuTime();
      cpu = Math.max(0, used - windowStart.cpu) / ((t - windowStart.at) * cores);
      windowStart = { at: t, cpu: used };
    }
    return cpu;
  }

  function estimate(): number | undefined {
    const at = Math.min(inFlight, BUCKETS - 1);
    for (let d = 0; d < BUCKETS; d++) {
      for (const i of d === 0 ? [at] : [at - d, at + d]) {
        if (i >= 0 && i < BUCKETS && buckets[i].length > 0) return median(buckets[i]);
      }
    }
    return undefined;
  }

  return {
    get inFlight() {
      return inFlight;
    },
    arrive() {
      return inFlight++;
    },
    depart(found, latencyMs) {
      inFlight = Math.max(0, inFlight - 1);
      const i = Math.min(found, BUCKETS - 1);
      const bucket = buckets[i];
      if (bucket.length < PER_BUCKET) bucket.push(latencyMs);
      else bucket[next[i]] = latencyMs;
      next[i] = (next[i] + 1) % PER_BUCKET;
    },
    estimate,
    header() {
      const cpuNow = cpuUtilization();
      const latency = estimate();
      return formatLoadReport({
        cpuUtilization: cpuNow === undefined ? undefined : round(cpuNow, 1_000),
        namedMetrics: latency === undefined
          ? { rif: inFlight }
          : { rif: inFlight, latency_ms: round(latency, 10) },
        utilization: {},
      });
    },
  };
}

/** Median of a few numbers (the upper one of the middle two for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round(value: number, scale: number): number {
  return Math.round(value * scale) / scale;
}
