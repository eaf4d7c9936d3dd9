/**
 * The outcome of a comparison: settings, machine, and per scenario the runs, the rows derived
 * from them and the conclusions. `--json` prints exactly this; the tables, reports and charts
 * are views of it.
 *
 * @module
 */

import { conclusions } from "./conclusions.ts";
import { hedgingSentences } from "./hedging.ts";
import { type Figure, type Row, rowOf } from "./figures.ts";
import type { MachineFacts } from "./machine.ts";
import type { RunSettings, StrategyResult } from "./run.ts";
import { capacityRate } from "../backend/mod.ts";
import { offeredRate, type Scenario } from "./scenarios.ts";

/** One scenario's outcome. */
export interface ScenarioOutcome {
  readonly scenario: Scenario;
  /** The seed and durations its runs had (a scenario may measure longer than `--duration`). */
  readonly settings?: RunSettings;
  /** Offered load in requests per second. */
  readonly offeredRate: number;
  /** Capacity per backend in requests per second, in scenario order. */
  readonly capacities: Readonly<Record<string, number>>;
  /** One row per strategy, in run order: its run with the median p99 when there were rounds. */
  readonly rows: readonly Row[];
  /** Each strategy's p99 in every round, in round order (one entry without `--repeat`). */
  readonly p99Rounds: Readonly<Record<string, readonly Figure[]>>;
  /** Written conclusions, one sentence each. */
  readonly conclusions: readonly string[];
  /** The runs the rows came from. */
  readonly runs: readonly StrategyResult[];
}

/** A whole comparison. */
export interface CompareResult {
  /** The command line that produced it, e.g. `deno task compare --scenario one-slow`. */
  readonly command: string;
  /** ISO time of the start. */
  readonly startedAt: string;
  readonly settings: RunSettings;
  /** Runs per strategy and scenario. */
  readonly repeat: number;
  readonly machine: MachineFacts;
  /** Free text added to every report (`--note`). */
  readonly note?: string;
  readonly scenarios: readonly ScenarioOutcome[];
}

/**
 * Derive rows and conclusions for a scenario's runs.
 *
 * With several rounds, each strategy is represented by its whole median-p99 run (the lower
 * median for an even count), so every figure of a row comes from one and the same run.
 *
 * @param scenario The scenario.
 * @param rounds Rounds of runs, each with one run per strategy in the same order.
 * @param timeoutMs The runs' request timeout.
 * @param settings The runs' seed and durations, when they differ from the comparison's.
 */
export function scenarioOutcome(
  scenario: Scenario,
  rounds: readonly (readonly StrategyResult[])[],
  timeoutMs: number,
  settings?: RunSettings,
): ScenarioOutcome {
  const names = scenario.backends.map((b) => b.name);
  const chosen = (rounds[0] ?? []).map((_, i) => {
    const candidates = rounds.map((runs) => ({ run: runs[i], row: rowOf(runs[i], names, timeoutMs) }));
    const sorted = [...candidates].sort((a, b) => a.row.p99.ms - b.row.p99.ms);
    return { ...sorted[Math.floor((sorted.length - 1) / 2)], p99s: candidates.map((c) => c.row.p99) };
  });
  const rows = chosen.map((c) => c.row);
  const runs = chosen.map((c) => c.run);
  return {
    scenario,
    offeredRate: offeredRate(scenario),
    capacities: Object.fromEntries(scenario.backends.map((b) => [b.name, capacityRate(b)])),
    rows,
    p99Rounds: Object.fromEntries(chosen.map((c) => [c.run.strategy, c.p99s])),
    conclusions: [...conclusions(scenario, rows, runs, timeoutMs), ...hedgingSentences(scenario, rows, runs)],
    runs,
    ...(settings ? { settings } : {}),
  };
}
