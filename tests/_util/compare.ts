/**
 * Comparison runs built from chosen figures, for the report, chart and conclusion tests.
 *
 * @module
 */

import type { HedgeCounts } from "../../demo/compare/hedge_counts.ts";
import type { StrategyResult } from "../../demo/compare/run.ts";
import { createRecorder } from "../../demo/load/recorder.ts";
import type { Summary } from "../../demo/load/summary.ts";

/** What a test chooses about a run; the rest follows. */
export interface RunFigures {
  readonly strategy: string;
  /** Latency of every answered request, in ms (fed through the load generator's recorder). */
  readonly latencies: readonly number[];
  /** Requests without a response (timeouts). */
  readonly failed?: number;
  /** Answered with 500. */
  readonly serverErrors?: number;
  /** Requests the proxy routed per backend. */
  readonly routed: Readonly<Record<string, number>>;
  /** Largest event-loop lag of both threads, ms. */
  readonly lagMs?: number;
  /** Passive-health ejections per backend. */
  readonly ejections?: Readonly<Record<string, number>>;
  /** Hedges sent, won, lost and refused. @default none */
  readonly hedges?: HedgeCounts;
}

/** A run whose summary comes from the real recorder fed with `figures`, over a 1 s window. */
export function runOf(figures: RunFigures): StrategyResult {
  const recorder = createRecorder();
  figures.latencies.forEach((ms, i) => {
    recorder.sent();
    recorder.response(i < (figures.serverErrors ?? 0) ? 500 : 200, ms, undefined);
  });
  for (let i = 0; i < (figures.failed ?? 0); i++) {
    recorder.sent();
    recorder.failure("timeout");
  }
  const counts = recorder.counts();
  const scheduled = counts.sent;
  const summary: Summary = {
    url: "http://127.0.0.1:1/",
    method: "GET",
    clients: 1,
    ratePerClient: scheduled,
    targetRate: scheduled,
    seed: 1,
    durationMs: 1_000,
    windowMs: 1_000,
    elapsedMs: 1_000,
    scheduled,
    unsent: 0,
    ...counts,
    sendRate: scheduled,
    achievedRate: counts.completed,
    errorRate: (counts.failed + counts.serverErrors) / scheduled,
  };
  const lag = { p99: figures.lagMs ?? 1, max: figures.lagMs ?? 1 };
  return {
    strategy: figures.strategy,
    summary,
    routed: figures.routed,
    ejections: figures.ejections ?? {},
    hedges: figures.hedges ?? { sent: 0, won: 0, lost: 0, refused: 0 },
    loadLag: lag,
    proxyLag: lag,
  };
}

/** `count` latencies spread evenly from `low` to `high` ms. */
export function spread(count: number, low: number, high: number): number[] {
  return Array.from({ length: count }, (_, i) => low + ((high - low) * i) / Math.max(1, count - 1));
}
