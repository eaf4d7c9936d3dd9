/**
 * A scenario's leader goal (`Scenario.leader`): one strategy must have the lowest p99 in that
 * scenario, and stay within a margin of the best p99 in every single-proxy scenario of the same
 * run, so winning where it is meant to win costs nothing where it is not. For `two-proxies`:
 * "`prequal` has the lowest p99 there, and is within 10% of the best in the single-proxy scenarios".
 *
 * Judged after every scenario ran, since it reads the others' rows. A p99 that is only a lower
 * bound (`≥`, some requests unanswered) on the leader cannot show it is lowest or within the
 * margin, so it counts as not met. A run without the leader, or without any single-proxy
 * scenario, says which half was not measured rather than calling it met.
 *
 * @module
 */

import { type Figure, formatFigure, formatMs, type Row } from "./figures.ts";
import type { Scenario } from "./scenarios.ts";

/** What judging reads of a scenario's outcome (result.ts's `ScenarioOutcome` has it). */
export interface Judged {
  readonly scenario: Scenario;
  readonly rows: readonly Row[];
  readonly conclusions: readonly string[];
  readonly leader?: LeaderOutcome;
}

/** The leader against the best strategy of one single-proxy scenario. */
export interface LeaderCheck {
  readonly scenario: string;
  /** The strategy with the lowest p99 there (the leader itself, when it was). */
  readonly best: string;
  readonly bestP99: Figure;
  /** The leader's p99 there. */
  readonly p99: Figure;
  /** `p99 / bestP99` as the figures are shown. */
  readonly ratio: number;
  readonly within: boolean;
}

/** How a scenario's leader goal came out. */
export interface LeaderOutcome {
  readonly strategy: string;
  readonly margin: number;
  /** Whether the leader had the lowest p99 here; undefined when it did not run here. */
  readonly lowest: boolean | undefined;
  /** The best other strategy here, for the sentence. */
  readonly runnerUp?: { readonly strategy: string; readonly p99: Figure };
  /** One check per single-proxy scenario where the leader ran. */
  readonly singles: readonly LeaderCheck[];
  /** Both halves measured and met; false when either is not met; undefined when not measured. */
  readonly met: boolean | undefined;
  /** The goal line for the report's conclusions. */
  readonly sentence: string;
}

const name = (strategy: string) => `\`${strategy}\``;
const ms = (figure: Figure) => `${formatFigure(figure)} ms`;
/** A figure as shown in the tables, so ratios can be checked against them. */
const shown = (figure: Figure) => Number(formatMs(figure.ms));

function lowestOf(rows: readonly Row[]): Row | undefined {
  return [...rows].sort((a, b) => a.p99.ms - b.p99.ms)[0];
}

/**
 * Judge the leader goal of every scenario that has one, against the single-proxy scenarios of
 * the same run; other outcomes are returned as they are.
 *
 * @param outcomes every scenario of the run, in run order
 * @returns the same outcomes, those with a leader goal carrying `leader` and its sentence
 */
export function judgeLeaders<T extends Judged>(outcomes: readonly T[]): T[] {
  const singles = outcomes.filter((o) => (o.scenario.proxies ?? 1) === 1);
  return outcomes.map((o) => {
    const goal = o.scenario.leader;
    if (!goal) return o;
    const leader = judge(goal.strategy, goal.margin, o.rows, singles);
    // After the lowest and highest p99, where a goal is read first.
    const conclusions = [...o.conclusions];
    conclusions.splice(Math.min(2, conclusions.length), 0, leader.sentence);
    return { ...o, leader, conclusions };
  });
}

function judge(
  strategy: string,
  margin: number,
  rows: readonly Row[],
  singles: readonly Judged[],
): LeaderOutcome {
  const pct = `${Math.round(margin * 100)}%`;
  const goal = `${name(strategy)} has the lowest p99 here, and is within ${pct} of the best in the ` +
    "single-proxy scenarios";
  const own = rows.find((r) => r.strategy === strategy);
  const runner = lowestOf(rows.filter((r) => r.strategy !== strategy));
  const lowest = own && (!own.p99.atLeast && (!runner || own.p99.ms <= runner.p99.ms));
  const checks: LeaderCheck[] = singles.flatMap((s) => {
    const mine = s.rows.find((r) => r.strategy === strategy);
    const best = lowestOf(s.rows);
    if (!mine || !best) return [];
    const ratio = shown(mine.p99) / shown(best.p99);
    const within = !mine.p99.atLeast && mine.p99.ms <= (1 + margin) * best.p99.ms;
    return [{
      scenario: s.scenario.name,
      best: best.strategy,
      bestP99: best.p99,
      p99: mine.p99,
      ratio,
      within,
    }];
  });
  const here = own === undefined
    ? "here: not measured, the run lacks it"
    : `here ${ms(own.p99)}${
      runner ? ` against ${name(runner.strategy)}'s ${ms(runner.p99)}, the best of the others` : ""
    }`;
  const away = checks.length === 0
    ? "single-proxy scenarios: not measured in this run (run them with it, e.g. `deno task compare`)"
    : `single-proxy scenarios: ${checks.filter((c) => c.within).length} of ${checks.length} within ${pct} (${
      checks.map((c) =>
        `${c.scenario} ${ms(c.p99)} against ${
          c.best === strategy ? "itself" : `${name(c.best)}'s ${ms(c.bestP99)}`
        }, ${c.ratio.toFixed(2)}x`
      ).join("; ")
    })`;
  const measured = own !== undefined && checks.length > 0;
  const met = lowest === false || checks.some((c) => !c.within) ? false : measured ? true : undefined;
  const verdict = met === undefined ? "not measured" : met ? "met" : "not met";
  return {
    strategy,
    margin,
    lowest,
    runnerUp: runner && { strategy: runner.strategy, p99: runner.p99 },
    singles: checks,
    met,
    sentence: `Goal (${goal}): ${verdict}. ${capitalise(here)}; ${away}.`,
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
