/**
 * What the hedging scenario (`long-tail`) reports besides the usual table: per variant its tail
 * latency against the variant without hedging, the load the hedges added to the backends, the
 * hedges sent, won, lost and refused, and whether the scenario's goal was met.
 *
 * Extra backend load is measured where it lands: requests the proxy sent to the backends during
 * the measured window (finished plus in flight, from `GET /api/backends`, cancelled losers
 * included), per scheduled request, against the same figure of the variant without hedging under
 * the same seeded load.
 *
 * @module
 */

import { type Figure, formatFigure, formatPercent, type Row } from "./figures.ts";
import type { HedgingGoal, Scenario } from "./scenarios.ts";
import { formatMarkdownTable, type Table } from "./table.ts";
import type { HedgeCounts } from "./hedge_counts.ts";

/** What the section and the goal read of a run besides its row. */
export interface HedgedRun {
  readonly strategy: string;
  readonly routed: Readonly<Record<string, number>>;
  readonly hedges: HedgeCounts;
}

/** One variant's hedging figures. */
interface HedgingFigures {
  readonly row: Row;
  readonly run: HedgedRun;
  /** Backend requests per scheduled request. */
  readonly attempts: number;
  /** `attempts` over the baseline's, minus one; 0 for the baseline. */
  readonly extra: number;
}

function figuresOf(rows: readonly Row[], runs: readonly HedgedRun[], goal: HedgingGoal): HedgingFigures[] {
  const attempts = (row: Row, run: HedgedRun) =>
    Object.values(run.routed).reduce((a, b) => a + b, 0) / Math.max(1, row.scheduled);
  const pairs = rows.map((row) => ({ row, run: runs.find((r) => r.strategy === row.strategy)! }));
  const base = pairs.find((p) => p.row.strategy === goal.baseline);
  const baseAttempts = base ? attempts(base.row, base.run) : NaN;
  return pairs.map(({ row, run }) => {
    const a = attempts(row, run);
    return { row, run, attempts: a, extra: a / baseAttempts - 1 };
  });
}

/** `value / of`, `at most` when `of` is only a lower bound (the true ratio is then smaller). */
function ratio(value: Figure, of: Figure): string {
  const r = `${(value.ms / of.ms).toFixed(2)}x`;
  return of.atLeast && !value.atLeast ? `at most ${r}` : value.atLeast ? `at least ${r}` : r;
}

/** The hedging table: tail latency, load and hedge counts per variant. */
export function hedgingTable(rows: readonly Row[], runs: readonly HedgedRun[], goal: HedgingGoal): Table {
  const figures = figuresOf(rows, runs, goal);
  const base = figures.find((f) => f.row.strategy === goal.baseline);
  return {
    header: [
      "setup",
      "p99 ms",
      "p99.9 ms",
      "p99.9 vs no hedging",
      "backend requests per request",
      "extra backend load",
      "hedges sent",
      "won",
      "lost",
      "budget refusals",
    ],
    rows: figures.map((f) => [
      f.row.strategy,
      formatFigure(f.row.p99),
      formatFigure(f.row.p999),
      base && f !== base ? ratio(f.row.p999, base.row.p999) : "",
      f.attempts.toFixed(4),
      f === base ? "" : formatPercent(f.extra),
      `${f.run.hedges.sent} (${formatPercent(f.run.hedges.sent / Math.max(1, f.row.scheduled))})`,
      String(f.run.hedges.won),
      String(f.run.hedges.lost),
      String(f.run.hedges.refused),
    ]),
  };
}

/** The goal as the report states it. */
export function goalText(goal: HedgingGoal): string {
  return `p99.9 with hedging at most ${goal.p999Ratio}x ${goal.baseline}'s, extra backend load at most ${
    formatPercent(goal.extraLoad)
  }`;
}

/**
 * One sentence per hedging variant: whether it met the goal, with the figures. A p99.9 that is
 * only a lower bound (requests timed out) cannot meet it.
 */
export function hedgingSentences(
  scenario: Scenario,
  rows: readonly Row[],
  runs: readonly HedgedRun[],
): string[] {
  const goal = scenario.hedgingGoal;
  if (!goal) return [];
  const figures = figuresOf(rows, runs, goal);
  const base = figures.find((f) => f.row.strategy === goal.baseline);
  const goalLine = `Goal (${goalText(goal)})`;
  if (!base) return [`${goalLine}: not measured, the run lacks \`${goal.baseline}\`.`];
  return figures.filter((f) => f !== base).map((f) => {
    const fast = !f.row.p999.atLeast && f.row.p999.ms <= goal.p999Ratio * base.row.p999.ms;
    const light = f.extra <= goal.extraLoad;
    const verdict = fast && light
      ? "met"
      : `not met (${[fast ? "" : "p99.9", light ? "" : "load"].filter(Boolean).join(", ")})`;
    return `${goalLine}: ${verdict} by \`${f.row.strategy}\`: p99.9 ${formatFigure(f.row.p999)} ms against ${
      formatFigure(base.row.p999)
    } ms (${ratio(f.row.p999, base.row.p999)}), ${
      formatPercent(f.extra)
    } more backend requests, ${f.run.hedges.sent} hedges (${f.run.hedges.won} won, ${f.run.hedges.refused} refused by the budget).`;
  });
}

/** The report's hedging section: the goal, the variants' configs, the table. */
export function hedgingSection(
  scenario: Scenario,
  rows: readonly Row[],
  runs: readonly HedgedRun[],
): string[] {
  const goal = scenario.hedgingGoal;
  if (!goal) return [];
  return [
    "## Hedging",
    "",
    `Goal: ${goalText(goal)}.`,
    "",
    ...(scenario.variants ?? []).map((v) =>
      `- \`${v.label}\`: \`${v.strategy}\`${v.config ? `, \`${v.config}\`` : ", the proxy's defaults"}`
    ),
    "",
    formatMarkdownTable(hedgingTable(rows, runs, goal)),
    "",
    "Backend requests are what the proxy sent to the backends in the measured window (finished and in " +
    "flight, cancelled hedge losers included) per request scheduled; extra backend load compares that with " +
    `\`${goal.baseline}\`'s under the same seeded load. A hedge is won when its response was relayed and ` +
    "the first attempt cancelled, lost when the first attempt answered first (or neither answered).",
    "",
  ];
}
