/**
 * The `GET /api/stats` document: live pool state joined with the windowed request statistics,
 * one row per backend, in the shape the status page and the strategy cycle command read. Field
 * names are snake_case, like the config, the metrics and the rest of the admin API.
 *
 * @module
 */

import { STRATEGY_NAMES } from "../../algorithms/mod.ts";
import type { StatsWindow, WindowStats } from "../metrics/mod.ts";
import type { Service, ServiceSet } from "../service/mod.ts";
import { type AdminTotals, countsKey } from "./cluster.ts";

/** One backend row of {@linkcode StatusReport}. */
export interface BackendStatus {
  readonly name: string;
  readonly url: string;
  readonly state: string;
  /** Effective weight (slow start included). */
  readonly weight: number;
  readonly in_flight: number;
  /** Requests answered in the window. */
  readonly requests: number;
  /** Requests per second over the window. */
  readonly rate: number;
  /** Share of requests answered with 5xx (the proxy's own 502/503/504 included), 0..1. */
  readonly error_ratio: number;
  /** Estimated latency quantiles in ms, or null without observations. */
  readonly p50: number | null;
  readonly p99: number | null;
  /** Requests in each complete second of the window, oldest first. */
  readonly per_second: readonly number[];
  /** Estimated p99 in ms of each complete second, oldest first; null for idle seconds. */
  readonly p99_per_second: readonly (number | null)[];
  /** This backend's share of the requests routed to a backend in the window, 0..1. */
  readonly share: number;
}

/** A live strategy switch of one service, within the report's window. */
export interface StrategyChangeStatus {
  readonly from: string;
  readonly to: string;
  /** Seconds before the report was made (ms precision). */
  readonly seconds_ago: number;
}

/** One service of {@linkcode StatusReport}. */
export interface ServiceStatus {
  readonly name: string;
  readonly strategy: string;
  /** Strategy switches within the window (API or reload), oldest first; the page marks them. */
  readonly strategy_changes: readonly StrategyChangeStatus[];
  readonly backends: readonly BackendStatus[];
  /** Requests of this service answered 503 because no backend was eligible, in the window. */
  readonly unavailable: number;
}

/** The `/api/stats` JSON document. */
export interface StatusReport {
  /** Seconds covered by the window numbers. */
  readonly window_seconds: number;
  readonly available: readonly string[];
  /** True when changing a strategy needs the admin token (never the token itself). */
  readonly token_required: boolean;
  readonly services: readonly ServiceStatus[];
  /** Requests that matched no route (answered 404), in the window. */
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
 * Build the report over the last `seconds` (clamped to the window length); with `totals` (several
 * isolates), windows and in-flight counts are every isolate's together.
 *
 * @example
 * ```ts ignore
 * const report = statusReport(services, unrouted, { tokenRequired: false, seconds: 60 });
 * report.services[0].backends.map((b) => `${b.name} ${b.rate.toFixed(1)} req/s`);
 * ```
 */
export function statusReport(
  services: ServiceSet,
  unrouted: StatsWindow | undefined,
  options: { tokenRequired: boolean; seconds?: number },
  totals?: AdminTotals,
): StatusReport {
  const all = services.all();
  const longest = Math.max(...all.map((s) => s.stats.seconds));
  const seconds = Math.max(1, Math.min(longest, Math.floor(options.seconds ?? longest)));
  return {
    window_seconds: seconds,
    available: STRATEGY_NAMES,
    token_required: options.tokenRequired,
    services: all.map((s) => serviceStatus(s, seconds, totals)),
    unrouted: (totals?.unrouted ?? unrouted)?.snapshot(seconds).get("none")?.requests ?? 0,
  };
}

function serviceStatus(s: Service, seconds: number, totals: AdminTotals | undefined): ServiceStatus {
  const window = (totals?.windows.get(s.name) ?? s.stats).snapshot(seconds);
  const backends = s.pool.all();
  const routed = backends.reduce((n, b) => n + (window.get(b.name)?.requests ?? 0), 0);
  return {
    name: s.name,
    strategy: s.balancer.strategy,
    strategy_changes: s.balancer.recentChanges(seconds * 1000).map(({ from, to, agoMs }) => ({
      from,
      to,
      seconds_ago: Math.round(agoMs) / 1000,
    })),
    backends: backends.map((b) => {
      const w = window.get(b.name) ?? IDLE;
      return {
        name: b.name,
        url: b.url,
        state: b.state,
        weight: b.weight,
        in_flight: totals?.backends.get(countsKey(s.name, b.name))?.inFlight ?? b.inFlight,
        requests: w.requests,
        rate: w.rate,
        error_ratio: w.errorRatio,
        p50: w.p50,
        p99: w.p99,
        per_second: w.perSecond,
        p99_per_second: w.p99PerSecond,
        share: routed > 0 ? w.requests / routed : 0,
      };
    }),
    unavailable: window.get("none")?.requests ?? 0,
  };
}
