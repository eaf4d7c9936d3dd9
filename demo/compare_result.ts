/**
 * The outcome of a comparison: settings, machine, and per scenario the runs, the rows derived
 * from them and the conclusions. `--json` prints exactly this; the tables, reports and charts
 * are views of it.
 *
 * @module
 */

import { conclusions } from "./compare_conclusions.ts";
import { type Row, rowOf } from "./compare_figures.ts";
import type { MachineFacts } from "./compare_machine.ts";
import type { RunSettings, StrategyResult } from "./compare_run.ts";
import { capacityRate } from "./backend_spec.ts";
import { offeredRate, type Scenario } from "./compare_scenarios.ts";

/** One scenario's outcome. */
export interface ScenarioOutcome {
  readonly scenario: Scenario;
  /** Offered load in requests per second. */
  readonly offeredRate: number;
  /** Capacity per backend in requests per second, in scenario order. */
  readonly capacities: Readonly<Record<string, number>>;
  /** One row per strategy, in run order. */
  readonly rows: readonly Row[];
  /** Written conclusions, one sentence each. */
  readonly conclusions: readonly string[];
  /** The raw runs the rows came from. */
  readonly runs: readonly StrategyResult[];
}

/** A whole comparison. */
export interface CompareResult {
  /** The command line that produced it, e.g. `deno task compare --scenario one-slow`. */
  readonly command: string;
  /** ISO time of the start. */
  readonly startedAt: string;
  readonly settings: RunSettings;
  readonly machine: MachineFacts;
  /** Free text added to every report (`--note`). */
  readonly note?: string;
  readonly scenarios: readonly ScenarioOutcome[];
}

/**
 * Derive rows and conclusions for a scenario's runs.
 *
 * @param scenario The scenario.
 * @param runs One run per strategy.
 * @param timeoutMs The runs' request timeout.
 */
export function scenarioOutcome(
  scenario: Scenario,
  runs: readonly StrategyResult[],
  timeoutMs: number,
): ScenarioOutcome {
  const names = scenario.backends.map((b) => b.name);
  const rows = runs.map((run) => rowOf(run, names, timeoutMs));
  return {
    scenario,
    offeredRate: offeredRate(scenario),
    capacities: Object.fromEntries(scenario.backends.map((b) => [b.name, capacityRate(b)])),
    rows,
    conclusions: conclusions(scenario, rows, runs, timeoutMs),
    runs,
  };
}
