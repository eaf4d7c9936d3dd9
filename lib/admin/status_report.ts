/**
 * The `GET /api/stats` document: live pool state joined with the windowed request statistics,
 * one row per backend, in the shape the status page and the strategy cycle command read.
 *
 * @module
 */

import { STRATEGY_NAMES } from "../../algorithms/mod.ts";
import type { Balancer } from "../pool/mod.ts";
import type { StatsWindow, WindowStats } from "../metrics/mod.ts";

/** One backend row of {@linkcode StatusReport}. */
export interface BackendStatus extends WindowStats {
  readonly name: string;
  readonly url: string;
  readonly state: string;
  readonly weight: number;
  readonly inFlight: number;
  /** This backend's share of the requests routed to a backend in the window, 0..1. */
  readonly share: number;
}

/** The `/api/stats` JSON document. */
export interface StatusReport {
  /** Seconds covered by the window numbers. */
  readonly windowSeconds: number;
  readonly strategy: string;
  readonly available: readonly string[];
  /** True when changing the strategy needs the admin token (never the token itself). */
  readonly tokenRequired: boolean;
  readonly backends: readonly BackendStatus[];
  /** Requests answered 503 because no backend was eligible, in the window. */
  readonly unrouted: number;
}

const IDLE: WindowStats = {
  requests: 0,
  rate: 0,
  errorRatio: 0,
  p50: null,
  p99: null,
  perSecond: [],
  p99PerSecond: [],
};

/**
 * Build the report over the last `seconds` (clamped to the window length).
 *
 * @example
 * ```ts ignore
 * const report = statusReport(balancer, stats, { tokenRequired: false, seconds: 60 });
 * report.backends.map((b) => `${b.name} ${b.rate.toFixed(1)} req/s`);
 * ```
 */
export function statusReport(
  balancer: Balancer,
  stats: StatsWindow,
  options: { tokenRequired: boolean; seconds?: number },
): StatusReport {
  const seconds = Math.max(1, Math.min(stats.seconds, Math.floor(options.seconds ?? stats.seconds)));
  const window = stats.snapshot(seconds);
  const backends = balancer.pool.all();
  const routed = backends.reduce((n, b) => n + (window.get(b.name)?.requests ?? 0), 0);
  return {
    windowSeconds: seconds,
    strategy: balancer.strategy,
    available: STRATEGY_NAMES,
    tokenRequired: options.tokenRequired,
    backends: backends.map((b) => {
      const w = window.get(b.name) ?? IDLE;
      return {
        name: b.name,
        url: b.url,
        state: b.state,
        weight: b.weight,
        inFlight: b.inFlight,
        ...w,
        share: routed > 0 ? w.requests / routed : 0,
      };
    }),
    unrouted: window.get("none")?.requests ?? 0,
  };
}
