/**
 * `deno task compare`: every strategy against named scenarios under identical seeded open-loop
 * load, with a table per scenario and a markdown report with SVG charts.
 *
 * This replaces the Go project's notebook, whose "result" was the weighted mean of configured
 * sleeps: here each strategy meets real queues (backends serve a limited number of requests at
 * once), the same schedule of requests, and is measured from each request's due time.
 *
 * ```
 * deno task compare [--scenario one-slow] [--strategies a,b] [--duration 3s] [--json]
 * deno task compare --live http://localhost:8081 --every 60s
 * ```
 *
 * @module
 */

import { runCli } from "../shared/mod.ts";
import { COMPARE_USAGE, type CompareOptions, parseCompareArgs } from "./config.ts";
import { formatPercent } from "./figures.ts";
import { machineFacts } from "./machine.ts";
import { type CompareStep, progressWriter } from "./progress.ts";
import { openProxyHost } from "./proxy.ts";
import { scenarioReport } from "./report.ts";
import { type CompareResult, type ScenarioOutcome, scenarioOutcome } from "./result.ts";
import { runStrategy, type StrategyResult } from "./run.ts";
import type { Progress } from "../load/mod.ts";
import { offeredRate, SCENARIOS, variantsOf } from "./scenarios.ts";
import { formatTextTable, resultTable } from "./table.ts";
import { judgeLeaders } from "./leader.ts";
import { main as liveCycle } from "./live_cycle.ts";

/** The unrecorded first run that warms up both threads' code. */
const PRIMING = { warmupMs: 0, durationMs: 1_000 };

/** Progress callbacks for {@linkcode runCompare}. */
export interface CompareHooks {
  /** Called when a run starts, every 250 ms while it is measured, and when it ends. */
  readonly onStep?: (step: CompareStep, finished: boolean) => void;
}

/**
 * Run the comparison described by `options`.
 *
 * @param options Scenarios, strategies, seed and durations.
 * @param command The command line to quote in reports.
 * @param hooks Progress callbacks.
 * @returns Every scenario's runs, rows and conclusions.
 *
 * @example Usage
 * ```ts ignore
 * import { COMPARE_DEFAULTS } from "./config.ts";
 * const result = await runCompare({ ...COMPARE_DEFAULTS, scenarios: ["one-slow"] }, "deno task compare");
 * result.scenarios[0].rows.map((r) => [r.strategy, r.p99.ms]);
 * ```
 */
export async function runCompare(
  options: CompareOptions,
  command: string,
  hooks: CompareHooks = {},
): Promise<CompareResult> {
  const startedAt = new Date().toISOString();
  const machine = machineFacts();
  const settings = {
    seed: options.seed,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    timeoutMs: options.timeoutMs,
  };
  const total =
    options.scenarios.reduce((n, s) => n + variantsOf(SCENARIOS[s], options.strategies).length, 0) *
    options.repeat;
  // One proxy thread per proxy the largest scenario runs, kept across runs.
  const most = Math.max(1, ...options.scenarios.map((name) => SCENARIOS[name].proxies ?? 1));
  const hosts = Array.from({ length: most }, () => openProxyHost());
  const scenarios: ScenarioOutcome[] = [];
  let done = 0;
  try {
    // The first run of a process meets cold code on both threads (its p99 came out 2-5x the
    // next runs' in the same scenario): one unrecorded run takes that cost for everyone.
    // With several proxy threads, the priming run is one that starts all of them.
    const first = options.scenarios.find((n) => (SCENARIOS[n].proxies ?? 1) === most) ?? options.scenarios[0];
    if (first !== undefined && options.strategies[0] !== undefined) {
      hooks.onStep?.({ done, total, scenario: first, strategy: "(warming up)" }, false);
      await runStrategy(SCENARIOS[first], options.strategies[0], { ...settings, ...PRIMING }, hosts);
    }
    for (const name of options.scenarios) {
      const scenario = SCENARIOS[name];
      const variants = variantsOf(scenario, options.strategies);
      if (variants.length === 0) continue; // its variants use none of the strategies asked for
      const own = { ...settings, durationMs: Math.max(settings.durationMs, scenario.minDurationMs ?? 0) };
      // Rounds go through every strategy in turn, so a noisy minute hits one round of each
      // strategy rather than every round of one.
      const rounds: StrategyResult[][] = [];
      for (let round = 0; round < options.repeat; round++) {
        const runs: StrategyResult[] = [];
        for (const variant of variants) {
          const step = { done, total, scenario: name, strategy: variant.label };
          hooks.onStep?.(step, false);
          const onProgress = (load: Progress) => hooks.onStep?.({ ...step, load }, false);
          runs.push(await runStrategy(scenario, variant, own, hosts, onProgress));
          hooks.onStep?.({ ...step, done: ++done }, true);
        }
        rounds.push(runs);
      }
      scenarios.push(scenarioOutcome(scenario, rounds, options.timeoutMs, own));
    }
  } finally {
    for (const host of hosts) host.close();
  }
  return {
    command,
    startedAt,
    settings,
    repeat: options.repeat,
    machine,
    note: options.note,
    scenarios: judgeLeaders(scenarios),
  };
}

/** Write every scenario's report into `dir`; returns the paths written. */
export async function writeReports(result: CompareResult, dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const outcome of result.scenarios) {
    for (const [file, content] of scenarioReport(result, outcome)) {
      const path = `${dir.replace(/\/+$/, "")}/${file}`;
      await Deno.writeTextFile(path, content);
      written.push(path);
    }
  }
  return written;
}

/** A scenario as text: heading, table and conclusions. */
export function formatScenario(outcome: ScenarioOutcome): string {
  const { scenario } = outcome;
  return [
    `${scenario.name}: ${scenario.description}`,
    `offered ${offeredRate(scenario).toFixed(0)} req/s (${formatPercent(scenario.utilisation)} of capacity)`,
    "",
    formatTextTable(resultTable(outcome.rows, scenario.backends.map((b) => b.name))),
    "",
    ...outcome.conclusions.map((c) => `- ${c.replaceAll("`", "")}`),
  ].join("\n");
}

/** The command line as typed, quoting arguments that need it. */
function commandLine(args: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
  return ["deno task compare", ...args.map(quote)].join(" ");
}

/** Command-line entry; returns the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  if (args.some((a) => a === "--live" || a.startsWith("--live="))) return await liveCycle(args);
  const run = (options: CompareOptions) => compareAndReport(options, commandLine(args));
  return await runCli(args, { usage: COMPARE_USAGE, parse: parseCompareArgs, run });
}

/** Run with a progress bar on stderr, write the reports, print the tables or the JSON. */
async function compareAndReport(options: CompareOptions, command: string): Promise<number> {
  // Checked before the runs, so a bad --out costs a line, not minutes of measurements.
  const unwritable = options.out === null ? undefined : await cannotWrite(options.out);
  if (unwritable) {
    console.error(`--out ${options.out}: ${unwritable}`);
    return 2;
  }
  const progress = progressWriter(Deno.stderr);
  const result = await runCompare(options, command, {
    onStep: (step, finished) => (finished ? progress.runDone(step) : progress.update(step)),
  });
  progress.clear();
  const written = options.out === null ? [] : await writeReports(result, options.out);
  const where = `reports: ${written.filter((p) => p.endsWith(".md")).join(", ")}`;
  if (options.json) {
    console.log(JSON.stringify(result, null, 2));
    // stdout is the JSON alone, so it can be piped; where the reports went goes to stderr.
    if (written.length) console.error(where);
  } else {
    console.log(result.scenarios.map(formatScenario).join("\n\n"));
    if (written.length) console.log(`\n${where}`);
  }
  return 0;
}

/** Why `dir` cannot take the reports (created when missing), or undefined when it can. */
async function cannotWrite(dir: string): Promise<string | undefined> {
  if (Deno.permissions.querySync({ name: "write", path: dir }).state !== "granted") {
    return "not writable by `deno task compare`, which may write under reports/ only " +
      "(pick a directory there, or run demo/compare/compare.ts with --allow-write for it)";
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
    return undefined;
  } catch (error) {
    return `cannot create it: ${error instanceof Error ? error.message : String(error)}`;
  }
}

if (import.meta.main) Deno.exit(await main());
