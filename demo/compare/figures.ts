/**
 * The figures of a comparison row, derived once from a run and formatted one way, so the
 * printed table, the markdown, the charts and the written conclusions quote the same numbers.
 *
 * Percentiles count unanswered requests. The load generator's histogram holds answered requests
 * only; a request that timed out (or was never sent) took at least the timeout. When more than
 * 1% of requests went unanswered, the true p99 is beyond the timeout and is shown as `≥2000`; when
 * fewer did, the answered requests' p99 is a lower bound and is marked `≥` too. Either way a
 * strategy cannot look faster by letting its slowest requests time out.
 *
 * @module
 */

import type { StrategyResult } from "./run.ts";

/** A latency in milliseconds, and whether it is only a lower bound. */
export interface Figure {
  readonly ms: number;
  /** True when unanswered requests could push the true value higher. */
  readonly atLeast: boolean;
}

/** The percentiles reported, with their keys in {@linkcode Row}. */
export const PERCENTILES = [
  { key: "p50", label: "p50", q: 0.5 },
  { key: "p90", label: "p90", q: 0.9 },
  { key: "p99", label: "p99", q: 0.99 },
  { key: "p999", label: "p99.9", q: 0.999 },
] as const;

/** One of the percentile keys. */
export type PercentileKey = typeof PERCENTILES[number]["key"];

/** One strategy's figures in one scenario. */
export interface Row extends Readonly<Record<PercentileKey, Figure>> {
  readonly strategy: string;
  /** Responses per second over the whole run, drain included. */
  readonly achievedRate: number;
  /** Requests the load generator scheduled in the measured window. */
  readonly scheduled: number;
  /** Responses with status 500 and above. */
  readonly serverErrors: number;
  /** Requests without a response: timeouts, connection errors, never sent. */
  readonly unanswered: number;
  /** (serverErrors + unanswered) / scheduled. */
  readonly errorRate: number;
  /** Share of routed requests per backend, 0..1, in scenario order. */
  readonly shares: Readonly<Record<string, number>>;
  /** Requests routed per backend per second of the measured window. */
  readonly routedRates: Readonly<Record<string, number>>;
}

/**
 * Derive a row from a run.
 *
 * @param result The run.
 * @param backends Backend names in scenario order (every one gets a share, zero included).
 * @param timeoutMs The runs' request timeout: the floor of an unanswered request's latency.
 */
export function rowOf(result: StrategyResult, backends: readonly string[], timeoutMs: number): Row {
  const s = result.summary;
  const unanswered = s.failed + s.unsent;
  const missing = s.scheduled > 0 ? unanswered / s.scheduled : 0;
  const latency = s.latencyMs;
  const figure = (key: PercentileKey, q: number): Figure => {
    if (latency === undefined || missing > 1 - q) return { ms: timeoutMs, atLeast: true };
    return { ms: latency[key], atLeast: unanswered > 0 };
  };
  const routedTotal = backends.reduce((sum, b) => sum + (result.routed[b] ?? 0), 0);
  const windowS = (s.durationMs ?? s.windowMs) / 1_000;
  return {
    strategy: result.strategy,
    achievedRate: s.achievedRate,
    scheduled: s.scheduled,
    serverErrors: s.serverErrors,
    unanswered,
    errorRate: s.errorRate,
    ...Object.fromEntries(PERCENTILES.map(({ key, q }) => [key, figure(key, q)])) as Record<
      PercentileKey,
      Figure
    >,
    shares: Object.fromEntries(
      backends.map((b) => [b, routedTotal ? (result.routed[b] ?? 0) / routedTotal : 0]),
    ),
    routedRates: Object.fromEntries(backends.map((b) => [b, (result.routed[b] ?? 0) / windowS])),
  };
}

/** Milliseconds as shown everywhere: one decimal below 10, whole numbers above. */
export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : ms.toFixed(0);
}

/** A figure as shown everywhere: `107`, `8.4`, or `≥2000` for a lower bound. */
export function formatFigure(figure: Figure): string {
  return `${figure.atLeast ? "≥" : ""}${formatMs(figure.ms)}`;
}

/** A ratio 0..1 as a percentage with one decimal: `22.3%`. */
export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** A rate as shown everywhere: whole requests per second. */
export function formatRate(rate: number): string {
  return rate.toFixed(0);
}
