/**
 * The written conclusions of a scenario report, generated from the measured figures.
 *
 * Every sentence quotes the numbers it rests on and says nothing the numbers do not: which
 * strategy had the lowest and highest p99 and by what factor, which strategies sent a backend
 * more than its capacity, whose split came closest to the capacities, how much traffic went to a
 * failing backend, whether the scenario's goal was met, and how noisy the machine was.
 *
 * @module
 */

import { type Figure, formatFigure, formatMs, formatPercent, formatRate, type Row } from "./figures.ts";
import type { LagStats } from "../shared/mod.ts";
import { capacityRate } from "../backend/mod.ts";
import type { Scenario } from "./scenarios.ts";

/** Strategies that react to how backends behave (in-flight counts or latency). */
export const ADAPTIVE = [
  "least_connections",
  "power_of_two",
  "peak_ewma",
  "least_resources",
  "prequal",
] as const;

/**
 * A run whose event-loop lag p99 (on either thread) reaches this many milliseconds is called
 * disturbed: its timers were that late in 1% of the 10 ms ticks, so the machine repeatedly
 * stalled it, and its p99 latency may carry those stalls.
 */
const DISTURBED_LAG_MS = 20;

/** What the conclusions read of a run besides its row: event-loop lag and ejections. */
export interface RunLag {
  readonly strategy: string;
  readonly loadLag: LagStats;
  readonly proxyLag: LagStats;
  /** Passive-health ejections per backend during the run. */
  readonly ejections: Readonly<Record<string, number>>;
}

const name = (strategy: string) => `\`${strategy}\``;
const ms = (figure: Figure) => `${formatFigure(figure)} ms`;

/**
 * `value / of` as a multiple with two decimals, `at most` when the denominator is only a lower
 * bound. Computed from the figures as shown, so a reader can check it against the table.
 */
function ratio(value: Figure, of: Figure): string {
  const shown = (f: Figure) => Number(formatMs(f.ms));
  const r = `${(shown(value) / shown(of)).toFixed(2)}x`;
  if (of.atLeast && !value.atLeast) return `at most ${r}`;
  return value.atLeast && !of.atLeast ? `at least ${r}` : r;
}

function p99Sentences(rows: readonly Row[], baseline: string): string[] {
  const sorted = [...rows].sort((a, b) => a.p99.ms - b.p99.ms);
  const best = sorted[0];
  const worst = sorted[sorted.length - 1];
  const base = rows.find((r) => r.strategy === baseline);
  const out: string[] = [];
  if (base && base !== best) {
    out.push(
      `${name(best.strategy)} had the lowest p99 (${ms(best.p99)}), ${ratio(best.p99, base.p99)} ${
        name(baseline)
      }'s ${ms(base.p99)}.`,
    );
  } else out.push(`${name(best.strategy)} had the lowest p99 (${ms(best.p99)}).`);
  if (worst !== best) out.push(`${name(worst.strategy)} had the highest p99 (${ms(worst.p99)}).`);
  return out;
}

function unansweredSentences(rows: readonly Row[], timeoutMs: number): string[] {
  return rows.filter((r) => r.unanswered > 0).map((r) =>
    `${name(r.strategy)}: ${r.unanswered} of ${r.scheduled} requests (${
      formatPercent(r.unanswered / r.scheduled)
    }) got no response within the ${
      timeoutMs / 1_000
    } s timeout, so its percentiles are lower bounds (marked ≥).`
  );
}

function overloadSentences(scenario: Scenario, rows: readonly Row[]): string[] {
  return scenario.backends.flatMap((b) => {
    const capacity = capacityRate(b);
    const over = rows.filter((r) => r.routedRates[b.name] > capacity);
    if (over.length === 0) return [];
    const list = over.map((r) =>
      `${name(r.strategy)} ${formatRate(r.routedRates[b.name])} req/s (${formatPercent(r.shares[b.name])})`
    );
    return [`Sent ${b.name} more than its capacity of ${formatRate(capacity)} req/s: ${list.join(", ")}.`];
  });
}

function capacitySplitSentence(scenario: Scenario, rows: readonly Row[]): string {
  const total = scenario.backends.reduce((sum, b) => sum + capacityRate(b), 0);
  const split = scenario.backends.map((b) => ({ name: b.name, share: capacityRate(b) / total }));
  const deviation = (r: Row) => Math.max(...split.map((c) => Math.abs(r.shares[c.name] - c.share)));
  const closest = [...rows].sort((a, b) => deviation(a) - deviation(b))[0];
  return `Capacity split ${split.map((c) => `${c.name} ${formatPercent(c.share)}`).join(", ")}: closest was ${
    name(closest.strategy)
  }, within ${(deviation(closest) * 100).toFixed(1)} points for every backend.`;
}

function failingBackendSentences(scenario: Scenario, rows: readonly Row[]): string[] {
  return scenario.backends.filter((b) => b.errorRate > 0).map((b) => {
    const sorted = [...rows].sort((x, y) => x.shares[b.name] - y.shares[b.name]);
    const low = sorted[0];
    const high = sorted[sorted.length - 1];
    const part = (r: Row) =>
      `${formatPercent(r.shares[b.name])} (${name(r.strategy)}, ${
        formatPercent(r.errorRate)
      } errors overall)`;
    return `Share sent to ${b.name} (${formatPercent(b.errorRate)} injected 500s): from ${part(low)} to ${
      part(high)
    }.`;
  });
}

function goalSentence(scenario: Scenario, rows: readonly Row[]): string[] {
  if (!scenario.goal) return [];
  const { baseline, ratio: wanted } = scenario.goal;
  const base = rows.find((r) => r.strategy === baseline);
  const adaptive = rows.filter((r) => (ADAPTIVE as readonly string[]).includes(r.strategy));
  const goal = `the best adaptive strategy's p99 at most ${wanted}x ${name(baseline)}'s`;
  if (!base || adaptive.length === 0) return [`Goal (${goal}): not measured, the run lacks the strategies.`];
  const best = [...adaptive].sort((a, b) => a.p99.ms - b.p99.ms)[0];
  // A lower bound on the baseline only makes the ratio smaller; on the best, it cannot be judged.
  const met = !best.p99.atLeast && best.p99.ms <= wanted * base.p99.ms;
  return [
    `Goal (${goal}): ${met ? "met" : "not met"}. ${name(best.strategy)} ${ms(best.p99)} against ${
      name(baseline)
    }'s ${ms(base.p99)}: ${ratio(best.p99, base.p99)}.`,
  ];
}

function ejectionSentences(lags: readonly RunLag[]): string[] {
  return lags.flatMap((l) => {
    const ejected = Object.entries(l.ejections).filter(([, n]) => n > 0);
    if (ejected.length === 0) return [];
    const list = ejected.map(([backend, n]) => `${backend}${n > 1 ? ` (${n} times)` : ""}`).join(", ");
    return [
      `Passive health ejected ${list} during ${
        name(l.strategy)
      }'s run, so its shares are partly the proxy's ` +
      "outlier detection, not the strategy.",
    ];
  });
}

function lagSentence(lags: readonly RunLag[]): string {
  if (lags.length === 0) return "";
  const worst = (l: RunLag) => Math.max(l.loadLag.p99, l.proxyLag.p99);
  const disturbed = lags.filter((l) => worst(l) >= DISTURBED_LAG_MS);
  if (disturbed.length === 0) {
    const max = Math.max(...lags.map((l) => Math.max(l.loadLag.max, l.proxyLag.max)));
    return `Event-loop lag p99 stayed below ${DISTURBED_LAG_MS} ms on both threads in every run (largest single ` +
      `delay ${max.toFixed(0)} ms).`;
  }
  const list = disturbed.map((l) => `${name(l.strategy)} (${worst(l).toFixed(0)} ms)`).join(", ");
  return `Event-loop lag p99 reached ${DISTURBED_LAG_MS} ms or more in the runs of ${list}: the machine stalled ` +
    "those runs for that long again and again, so their latencies may be the machine's rather than the strategy's.";
}

/**
 * The conclusions of one scenario, one sentence per list item.
 *
 * @param scenario The scenario run.
 * @param rows One row per strategy.
 * @param lags Event-loop lag per run.
 * @param timeoutMs The request timeout of the runs.
 */
export function conclusions(
  scenario: Scenario,
  rows: readonly Row[],
  lags: readonly RunLag[],
  timeoutMs: number,
): string[] {
  if (rows.length === 0) return [];
  return [
    ...p99Sentences(rows, scenario.goal?.baseline ?? "round_robin"),
    ...goalSentence(scenario, rows),
    ...unansweredSentences(rows, timeoutMs),
    ...overloadSentences(scenario, rows),
    capacitySplitSentence(scenario, rows),
    ...failingBackendSentences(scenario, rows),
    ...ejectionSentences(lags),
    lagSentence(lags),
  ].filter((s) => s !== "");
}
