import assert from "node:assert/strict";
import { rowOf } from "../../../demo/compare/figures.ts";
import { hedgingSection, hedgingSentences, hedgingTable } from "../../../demo/compare/hedging.ts";
import { scenarioOutcome } from "../../../demo/compare/result.ts";
import { SCENARIOS, variantsOf } from "../../../demo/compare/scenarios.ts";
import { runOf, spread } from "../../_util/compare.ts";

const longTail = SCENARIOS["long-tail"];
const names = longTail.backends.map((b) => b.name);
const quarter = (n: number) => Object.fromEntries(names.map((b) => [b, n / 4]));

/** 1,000 requests: 990 fast, and `slow` of them at `slowMs`. */
function run(
  strategy: string,
  slowMs: number,
  routed: number,
  hedges = { sent: 0, won: 0, lost: 0, refused: 0 },
) {
  return runOf({
    strategy,
    latencies: [...spread(990, 18, 40), ...spread(10, slowMs, slowMs + 10)],
    routed: quarter(routed),
    hedges,
  });
}

Deno.test("long-tail runs its three variants, all round robin, whatever the default strategies", () => {
  assert.deepEqual(
    variantsOf(longTail, ["round_robin", "peak_ewma"]).map((v) => [v.label, v.config]),
    [
      ["no hedging", undefined],
      ["hedging 50ms", "hedging: {delay: 50ms, max_ratio: 0.05}"],
      ["hedging p95", "hedging: {delay: p95, max_ratio: 0.05}"],
    ],
  );
  assert.deepEqual(variantsOf(longTail, ["peak_ewma"]), [], "--strategies without round_robin skips it");
  assert.deepEqual(variantsOf(SCENARIOS.uniform, ["random"]), [{ label: "random", strategy: "random" }]);
});

Deno.test("hedgingSentences() judge p99.9 against the baseline and the extra backend load", () => {
  const runs = [
    run("no hedging", 1_000, 1_000),
    run("hedging 50ms", 80, 1_012, { sent: 12, won: 10, lost: 2, refused: 0 }),
    run("hedging p95", 75, 1_080, { sent: 80, won: 10, lost: 70, refused: 3 }),
  ];
  const rows = runs.map((r) => rowOf(r, names, 2_000));
  const lines = hedgingSentences(longTail, rows, runs);
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /^Goal \(p99\.9 with hedging at most 0\.3x no hedging's, extra backend load at most 5\.0%\): met by `hedging 50ms`: p99\.9 8\d ms against 10\d\d ms \(0\.0\dx\), 1\.2% more backend requests, 12 hedges \(10 won, 0 refused by the budget\)\.$/,
  );
  assert.match(lines[1], /: not met \(load\) by `hedging p95`: .* 8\.0% more backend requests/);

  const table = hedgingTable(rows, runs, longTail.hedgingGoal!);
  assert.deepEqual(table.rows.map((r) => [r[0], r[4], r[5], r[6]]), [
    ["no hedging", "1.0000", "", "0 (0.0%)"],
    ["hedging 50ms", "1.0120", "1.2%", "12 (1.2%)"],
    ["hedging p95", "1.0800", "8.0%", "80 (8.0%)"],
  ]);
  const section = hedgingSection(longTail, rows, runs).join("\n");
  assert.match(section, /^## Hedging\n\nGoal: p99\.9 with hedging at most 0\.3x/);
  assert.match(section, /- `hedging 50ms`: `round_robin`, `hedging: \{delay: 50ms, max_ratio: 0\.05\}`/);
});

Deno.test("hedgingSentences() call a p99.9 that is no better, or only a lower bound, not met", () => {
  const runs = [
    run("no hedging", 1_000, 1_000),
    run("hedging 50ms", 900, 1_010),
    runOf({ strategy: "hedging p95", latencies: spread(990, 18, 40), failed: 10, routed: quarter(1_010) }),
  ];
  const lines = hedgingSentences(longTail, runs.map((r) => rowOf(r, names, 2_000)), runs);
  assert.match(lines[0], /: not met \(p99\.9\) by `hedging 50ms`/);
  assert.match(lines[1], /: not met \(p99\.9\) by `hedging p95`: p99\.9 ≥2000 ms/);
  const outcome = scenarioOutcome(longTail, [runs], 2_000);
  assert.deepEqual(
    outcome.conclusions.filter((c) => c.startsWith("Goal (p99.9")),
    lines,
    "in the conclusions",
  );
});
