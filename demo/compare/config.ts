/**
 * Options of `deno task compare`, from flags and `COMPARE_*` environment variables.
 *
 * @module
 */

import { STRATEGY_NAMES } from "../../algorithms/mod.ts";
import { durationFlag, type FlagSpec, numberFlag, type Parsed, readFlags } from "../shared/mod.ts";
import { DEFAULT_SCENARIOS, SCENARIOS } from "./scenarios.ts";

/** What to compare and how. */
export interface CompareOptions {
  readonly scenarios: readonly string[];
  readonly strategies: readonly string[];
  readonly seed: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
  /** Runs per strategy and scenario; the run with the median p99 is reported. */
  readonly repeat: number;
  /** Directory for the reports; null writes none. */
  readonly out: string | null;
  /** Print the result as JSON instead of tables. */
  readonly json: boolean;
  /** Free text added to every report. */
  readonly note?: string;
}

/**
 * Defaults: every scenario and strategy once, seed 1, 500 ms warm-up, 2.5 s measured, 2 s timeout.
 * Reports go to `reports/local/`, which git ignores, so a run never changes the committed ones in
 * `reports/` (`--out reports` regenerates those).
 */
export const COMPARE_DEFAULTS: CompareOptions = {
  scenarios: DEFAULT_SCENARIOS,
  strategies: STRATEGY_NAMES,
  seed: 1,
  warmupMs: 500,
  durationMs: 2_500,
  timeoutMs: 2_000,
  repeat: 1,
  out: "reports/local",
  json: false,
};

/** Accepted flags; each single-valued one also reads `COMPARE_<NAME>`. */
export const COMPARE_FLAGS: FlagSpec = {
  scenario: { type: "string", multiple: true },
  strategies: { type: "string" },
  seed: { type: "string" },
  warmup: { type: "string" },
  duration: { type: "string" },
  timeout: { type: "string" },
  repeat: { type: "string" },
  out: { type: "string" },
  "no-report": { type: "boolean" },
  json: { type: "boolean" },
  note: { type: "string" },
  help: { type: "boolean" },
};

/** Usage text for `--help`. */
export const COMPARE_USAGE = `Usage: deno task compare [flags]
       deno task compare --live ADMIN_URL [--service NAME] [--every 60s] [--strategies a,b]
                         [--rounds N] [--token T]

Runs each strategy against each scenario on fresh in-process backends and a fresh proxy, under the
same seeded open-loop load, prints a table per scenario and writes compare-<scenario>.md with two
SVG charts into the --out directory. With --live, cycles the strategies of a running proxy instead
(deno task cycle).

  --scenario NAMES    scenario, repeatable or comma-separated (default: all)
                      ${Object.keys(SCENARIOS).join(", ")}
  --strategies LIST   comma-separated strategies (default: all)
  --seed N            seed of load and backends (default 1)
  --warmup D          load before the measured window (default 500ms)
  --duration D        measured window per strategy (default 2.5s)
  --timeout D         per-request timeout (default 2s)
  --repeat N          run every strategy N times, in rounds, and report the median p99 run (default 1)
  --out DIR           report directory (default reports/local, which git ignores;
                      --out reports regenerates the committed reports)
  --no-report         write no report files
  --json              print the result as JSON instead of tables
  --note TEXT         a line added to every report (e.g. where it ran)
`;

/** Split repeatable and comma-separated values into a list without blanks. */
function list(raw: string | string[] | boolean | undefined): string[] {
  const values = typeof raw === "string" ? [raw] : Array.isArray(raw) ? raw : [];
  return values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

/**
 * Parse compare flags.
 *
 * @param args Command-line arguments (without `--live`, which `main` dispatches first).
 * @param env Variable lookup.
 * @returns The options, `"help"`, or every problem found.
 */
export function parseCompareArgs(
  args: string[],
  env: (name: string) => string | undefined,
): Parsed<CompareOptions | "help"> {
  const flags = readFlags(args, COMPARE_FLAGS, env, "COMPARE");
  if (!flags.ok) return flags;
  const raw = flags.value;
  if (raw.help) return { ok: true, value: "help" };
  const errors: string[] = [];
  const d = COMPARE_DEFAULTS;
  const scenarios = list(raw.scenario);
  const strategies = list(raw.strategies);
  for (const s of scenarios.filter((s) => !Object.hasOwn(SCENARIOS, s))) {
    errors.push(`Cannot use --scenario: unknown "${s}"; known: ${Object.keys(SCENARIOS).join(", ")}`);
  }
  for (const s of strategies.filter((s) => !STRATEGY_NAMES.includes(s))) {
    errors.push(`Cannot use --strategies: unknown "${s}"; known: ${STRATEGY_NAMES.join(", ")}`);
  }
  const options: CompareOptions = {
    scenarios: scenarios.length ? [...new Set(scenarios)] : d.scenarios,
    strategies: strategies.length ? [...new Set(strategies)] : d.strategies,
    seed: numberFlag("seed", raw.seed, d.seed, errors, { min: 0, max: 2 ** 32 - 1, integer: true }),
    warmupMs: durationFlag("warmup", raw.warmup, d.warmupMs, errors),
    durationMs: durationFlag("duration", raw.duration, d.durationMs, errors),
    timeoutMs: durationFlag("timeout", raw.timeout, d.timeoutMs, errors),
    repeat: numberFlag("repeat", raw.repeat, d.repeat, errors, { min: 1, max: 99, integer: true }),
    out: raw["no-report"] === true ? null : typeof raw.out === "string" ? raw.out : d.out,
    json: raw.json === true,
    note: typeof raw.note === "string" && raw.note !== "" ? raw.note : undefined,
  };
  if (options.durationMs < 100) errors.push("Cannot use --duration: it must be at least 100ms");
  if (options.timeoutMs <= 0) errors.push("Cannot use --timeout: it must be longer than 0s");
  return errors.length ? { ok: false, errors } : { ok: true, value: options };
}
