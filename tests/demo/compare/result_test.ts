import assert from "node:assert/strict";
import { scenarioOutcome } from "../../../demo/compare/result.ts";
import { SCENARIOS } from "../../../demo/compare/scenarios.ts";
import { runOf, spread } from "../../_util/compare.ts";

Deno.test("scenarioOutcome() reports each strategy's whole median-p99 run and every round's p99", () => {
  const routed = { a: 1, b: 1, c: 1, d: 1 };
  const round = (rr: number, p2c: number) => [
    runOf({ strategy: "round_robin", latencies: spread(100, 1, rr), routed, lagMs: rr }),
    runOf({ strategy: "power_of_two", latencies: spread(100, 1, p2c), routed, lagMs: p2c }),
  ];
  const outcome = scenarioOutcome(SCENARIOS.uniform, [round(300, 40), round(100, 60), round(200, 50)], 2_000);
  assert.deepEqual(outcome.rows.map((r) => [r.strategy, Math.round(r.p99.ms)]), [
    ["round_robin", 198],
    ["power_of_two", 50],
  ]);
  // The lag, like every other figure of the row, comes from the chosen run.
  assert.deepEqual(outcome.runs.map((r) => r.loadLag.max), [200, 50]);
  assert.deepEqual(outcome.p99Rounds.round_robin.map((f) => Math.round(f.ms)), [297, 99, 198]);
  assert.equal(outcome.offeredRate, 480);
  assert.deepEqual(outcome.capacities, { a: 200, b: 200, c: 200, d: 200 });
  assert.match(
    outcome.conclusions[0],
    /^`power_of_two` had the lowest p99 \(50 ms\), 0\.25x `round_robin`'s 198 ms\.$/,
  );
});
