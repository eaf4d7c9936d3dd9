/**
 * A demo backend described as data: what the comparison scenarios and `deno task demo` start.
 *
 * @module
 */

import { type RunningBackend, startBackend } from "./backend.ts";
import type { Distribution } from "./latency.ts";

/** One backend: its costs, capacity, failure rate and weight in the proxy config. */
export interface BackendSpec {
  /** Name in the proxy config, the metrics and the reports. */
  readonly name: string;
  /** Mean latency per request in milliseconds. */
  readonly latencyMs: number;
  /** Standard deviation of the latency in milliseconds. */
  readonly jitterMs: number;
  /** Shape of the latency draw. */
  readonly distribution: Distribution;
  /** Requests served at once; the rest queue. */
  readonly capacity: number;
  /** Share of requests answered 500, 0..1. */
  readonly errorRate: number;
  /** Weight in the proxy config. */
  readonly weight: number;
  /** Share of requests that take `tailMs` instead, each independently. @default 0 */
  readonly tailRatio?: number;
  /** Latency of those requests in milliseconds. @default 1000 */
  readonly tailMs?: number;
}

/**
 * Completions per second a backend sustains: `capacity × 1000 / mean latency`, the mean counting
 * the tail's share at its latency.
 */
export function capacityRate(backend: BackendSpec): number {
  const tail = backend.tailRatio ?? 0;
  const mean = (1 - tail) * backend.latencyMs + tail * (backend.tailMs ?? 1_000);
  return mean > 0 ? (backend.capacity * 1_000) / mean : Infinity;
}

/**
 * Start `spec` in this process on 127.0.0.1, on a free port.
 *
 * @param spec The backend.
 * @param seed Seed of its latency and error draws.
 * @param hostname Host name its responses report; the machine's when absent.
 *
 * @example Usage
 * ```ts
 * import { startSpecBackend } from "./spec.ts";
 * const spec = { name: "a", latencyMs: 20, jitterMs: 5, distribution: "lognormal" as const, capacity: 4, errorRate: 0, weight: 1 };
 * const backend = startSpecBackend(spec, 1, "example");
 * await backend.close();
 * ```
 */
export function startSpecBackend(spec: BackendSpec, seed: number, hostname?: string): RunningBackend {
  return startBackend({
    port: 0,
    host: "127.0.0.1",
    name: spec.name,
    latencyMs: spec.latencyMs,
    jitterMs: spec.jitterMs,
    distribution: spec.distribution,
    capacity: spec.capacity,
    errorRate: spec.errorRate,
    tailRatio: spec.tailRatio ?? 0,
    tailMs: spec.tailMs ?? 1_000,
    seed,
  }, hostname === undefined ? {} : { hostname });
}
