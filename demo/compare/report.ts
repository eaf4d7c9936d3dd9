/**
 * The markdown report of one scenario and its two SVG charts, as file names and contents.
 *
 * @module
 */

import { formatDuration } from "../../lib/config/mod.ts";
import { formatFigure, formatMs, formatPercent, formatRate } from "./figures.ts";
import { formatMachine } from "./machine.ts";
import type { CompareResult, ScenarioOutcome } from "./result.ts";
import { latencyChart, shareChart } from "./svg.ts";
import { formatMarkdownTable, resultTable } from "./table.ts";
import { hedgingSection } from "./hedging.ts";

/** File names of a scenario's report, relative to the report directory. */
export function reportFiles(scenario: string): { markdown: string; latency: string; share: string } {
  return {
    markdown: `compare-${scenario}.md`,
    latency: `compare-${scenario}-latency.svg`,
    share: `compare-${scenario}-share.svg`,
  };
}

function backendTable(outcome: ScenarioOutcome): string {
  return formatMarkdownTable({
    header: ["backend", "mean latency", "spread", "at once", "capacity req/s", "injected 500s", "weight"],
    rows: outcome.scenario.backends.map((b) => [
      b.name,
      `${formatMs(b.latencyMs)} ms`,
      `${formatMs(b.jitterMs)} ms ${b.distribution}`,
      String(b.capacity),
      formatRate(outcome.capacities[b.name]),
      formatPercent(b.errorRate),
      String(b.weight),
    ]),
  });
}

/** The leader goal's section (leader.ts): the verdict, and the leader against the best elsewhere. */
function leaderSection(outcome: ScenarioOutcome): string[] {
  const leader = outcome.leader;
  if (!leader) return [];
  const verdict = leader.met === undefined ? "not measured" : leader.met ? "met" : "not met";
  const who = `\`${leader.strategy}\``;
  const pct = `${Math.round(leader.margin * 100)}%`;
  const here = leader.lowest === undefined
    ? `${who} did not run here.`
    : `Here ${who} ${leader.lowest ? "had" : "did not have"} the lowest p99${
      leader.runnerUp
        ? ` (the best of the others: \`${leader.runnerUp.strategy}\` ${formatFigure(leader.runnerUp.p99)} ms)`
        : ""
    }.`;
  return [
    "## Goal",
    "",
    `${who} has the lowest p99 here, and is within ${pct} of the best in the single-proxy scenarios: ` +
    `**${verdict}**. ${here}`,
    "",
    ...(leader.singles.length === 0
      ? ["No single-proxy scenario ran with it; `deno task compare` runs them all.", ""]
      : [
        formatMarkdownTable({
          header: [
            "single-proxy scenario",
            "best strategy",
            "best p99 ms",
            `${leader.strategy} p99 ms`,
            "ratio",
            `within ${pct}`,
          ],
          rows: leader.singles.map((c) => [
            c.scenario,
            c.best,
            formatFigure(c.bestP99),
            formatFigure(c.p99),
            `${c.ratio.toFixed(2)}x`,
            c.within ? "yes" : "no",
          ]),
        }),
        "",
        "Each single-proxy row is that scenario's report (same run, same seed and rounds).",
        "",
      ]),
  ];
}

function lagTable(outcome: ScenarioOutcome): string {
  const cell = (l: { p99: number; max: number }) => `${formatMs(l.p99)} / ${formatMs(l.max)}`;
  const rounds = Object.values(outcome.p99Rounds)[0]?.length ?? 1;
  return formatMarkdownTable({
    header: [
      "strategy",
      "load and backends thread, lag p99 / max ms",
      "proxy thread, lag p99 / max ms",
      ...(rounds > 1 ? ["p99 ms of each round"] : []),
    ],
    rows: outcome.runs.map((r) => [
      r.strategy,
      cell(r.loadLag),
      cell(r.proxyLag),
      ...(rounds > 1 ? [outcome.p99Rounds[r.strategy].map(formatFigure).join(", ")] : []),
    ]),
  });
}

/**
 * The report of one scenario: the markdown and both charts.
 *
 * @param result The whole comparison (settings, machine, command).
 * @param outcome The scenario to write up.
 * @returns File name to content; the markdown refers to the charts by their names.
 */
export function scenarioReport(result: CompareResult, outcome: ScenarioOutcome): Map<string, string> {
  const { scenario, rows } = outcome;
  const files = reportFiles(scenario.name);
  const names = scenario.backends.map((b) => b.name);
  const s = outcome.settings ?? result.settings;
  const totalCapacity = Object.values(outcome.capacities).reduce((a, b) => a + b, 0);
  const proxies = scenario.proxies ?? 1;
  const markdown = [
    `# Strategy comparison: ${scenario.name}`,
    "",
    scenario.description,
    "",
    ...(result.note ? [`> ${result.note}`, ""] : []),
    backendTable(outcome),
    "",
    `Offered load: ${formatRate(outcome.offeredRate)} req/s (${formatPercent(scenario.utilisation)} of ${
      formatRate(totalCapacity)
    } req/s total capacity) from ${scenario.clients} open-loop clients${
      proxies > 1
        ? `, taking turns between ${proxies} proxies (${scenario.clients / proxies} clients each)`
        : ""
    }.`,
    "",
    "## Results",
    "",
    formatMarkdownTable(resultTable(rows, names)),
    "",
    "Latencies in milliseconds from each request's scheduled time to the last byte of its response (open loop, " +
    "so waiting behind a slow backend counts). `≥` marks a lower bound: some requests got no response within " +
    `the ${
      formatDuration(s.timeoutMs)
    } timeout. req/s counts responses over the measured window and the drain ` +
    "after it. Errors are 5xx responses plus unanswered requests. Shares are the requests the proxy sent to " +
    "each backend during the measured window, answered or not.",
    "",
    ...hedgingSection(scenario, rows, outcome.runs),
    `![Latency percentiles per strategy](${files.latency})`,
    "",
    `![Share of requests per backend](${files.share})`,
    "",
    ...leaderSection(outcome),
    "## Conclusions",
    "",
    ...outcome.conclusions.map((c) => `- ${c}`),
    "",
    "## How this was measured",
    "",
    `- Command: \`${result.command}\``,
    `- Seed ${s.seed}: the same load schedule, client addresses and backend latency draws for every strategy.`,
    `- Per strategy: fresh backends and a fresh proxy, ${formatDuration(s.warmupMs)} of warm-up load, then ` +
    `${
      formatDuration(s.durationMs)
    } measured; the load does not pause between the two, and only requests due ` +
    `in the measured window count. Request timeout ${formatDuration(s.timeoutMs)}.`,
    proxies > 1
      ? `- Backends and the load generator share one thread; each of the ${proxies} proxies has its own, with ` +
        "the same config in front of the same backends, and knows nothing of the others. Shares and routed " +
        "counts add up all proxies; the proxy lag below is the worst proxy thread's. Everything on loopback. " +
        "Before the first run, one unrecorded 1 s run warms up the code of every thread."
      : "- Backends and the load generator share one thread, the proxy has its own; everything on loopback. " +
        "Before the first run, one unrecorded 1 s run warms up the code of both threads.",
    "- The proxy runs with its default resilience settings, as a user gets them: retries of connect failures, " +
    "resets and 502-504 (not of the 500s a failing backend here returns), passive health ejecting a backend " +
    "after 5 failures in a row, slow start.",
    ...(rows.some((r) => r.strategy === "least_resources")
      ? [
        "- `least_resources` gets no container stats here, so it behaves as `power_of_two` does without them.",
      ]
      : []),
    ...(rows.some((r) => r.strategy === "prequal")
      ? [
        "- `prequal` probes the backends' `/health` with its defaults (one probe every other request, never more than " +
        "half of what backends receive); the demo backends report their requests in flight and latency " +
        "estimate in `Endpoint-Load-Metrics` on every answer. Probes cost the backends' thread, which the " +
        "load generator shares, as much as small requests do, and that cost is in `prequal`'s figures.",
      ]
      : []),
    `- Machine: ${formatMachine(result.machine)}.`,
    `- Started ${result.startedAt}.`,
    "",
    "Event-loop lag of each reported run (how late a 10 ms timer fired): a measure of how much the machine, " +
    "rather than the strategy, shaped the figures.",
    "",
    lagTable(outcome),
    "",
  ].join("\n");
  return new Map([
    [files.markdown, markdown],
    [files.latency, latencyChart(`${scenario.name}: latency percentiles per strategy (ms)`, rows)],
    [files.share, shareChart(`${scenario.name}: share of requests per backend`, rows, names)],
  ]);
}
