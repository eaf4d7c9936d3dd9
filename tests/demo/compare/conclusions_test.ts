import assert from "node:assert/strict";
import { conclusions } from "../../../demo/compare/conclusions.ts";
import { rowOf } from "../../../demo/compare/figures.ts";
import { SCENARIOS } from "../../../demo/compare/scenarios.ts";
import type { StrategyResult } from "../../../demo/compare/run.ts";
import { runOf, spread } from "../../_util/compare.ts";

const oneSlow = SCENARIOS["one-slow"];
const names = oneSlow.backends.map((b) => b.name);

function conclude(runs: StrategyResult[]): string[] {
  return conclusions(oneSlow, runs.map((r) => rowOf(r, names, 2_000)), runs, 2_000);
}

// Routed counts over the 1 s window of the fixture runs, so they read as req/s.
const even = { a: 96, b: 96, c: 96, slow: 96 };
const steered = { a: 120, b: 120, c: 120, slow: 24 };

Deno.test("conclusions() quote the lowest and highest p99, the goal, timeouts and overload", () => {
  const lines = conclude([
    runOf({ strategy: "round_robin", latencies: spread(900, 20, 1_900), failed: 100, routed: even }),
    runOf({ strategy: "peak_ewma", latencies: spread(1_000, 20, 100), routed: steered }),
  ]);
  assert.equal(lines[0], "`peak_ewma` had the lowest p99 (99 ms), at most 0.05x `round_robin`'s ≥2000 ms.");
  assert.equal(lines[1], "`round_robin` had the highest p99 (≥2000 ms).");
  assert.equal(
    lines[2],
    "Goal (the best adaptive strategy's p99 at most 0.5x `round_robin`'s): met. " +
      "`peak_ewma` 99 ms against `round_robin`'s ≥2000 ms: at most 0.05x.",
  );
  assert.match(
    lines[3],
    /^`round_robin`: 100 of 1000 requests \(10\.0%\) got no response within the 2 s timeout/,
  );
  assert.equal(lines[4], "Sent slow more than its capacity of 40 req/s: `round_robin` 96 req/s (25.0%).");
  assert.match(lines[5], /^Capacity split a 31\.3%, b 31\.3%, c 31\.3%, slow 6\.3%: closest was `peak_ewma`/);
  assert.match(lines[6], /^Event-loop lag p99 stayed below 20 ms on both threads in every run/);
});

Deno.test("conclusions() say when the goal is not met, with the ratio", () => {
  const lines = conclude([
    runOf({ strategy: "round_robin", latencies: spread(1_000, 20, 150), routed: even, lagMs: 120 }),
    runOf({ strategy: "power_of_two", latencies: spread(1_000, 20, 100), routed: steered }),
  ]);
  const goal = lines.find((l) => l.startsWith("Goal"));
  assert.equal(
    goal,
    "Goal (the best adaptive strategy's p99 at most 0.5x `round_robin`'s): not met. " +
      "`power_of_two` 99 ms against `round_robin`'s 149 ms: 0.66x.",
  );
  assert.match(
    lines[lines.length - 1],
    /^Event-loop lag p99 reached 20 ms or more in the runs of `round_robin` \(120 ms\): the machine stalled/,
  );
});

Deno.test("conclusions() name the share sent to a failing backend", () => {
  const flaky = SCENARIOS.flaky;
  const runs = [
    runOf({
      strategy: "round_robin",
      latencies: spread(100, 20, 40),
      serverErrors: 5,
      routed: { a: 25, b: 25, c: 25, flaky: 25 },
    }),
    runOf({
      strategy: "peak_ewma",
      latencies: spread(100, 20, 40),
      routed: { a: 33, b: 33, c: 33, flaky: 1 },
      ejections: { flaky: 1 },
    }),
  ];
  const rows = runs.map((r) => rowOf(r, flaky.backends.map((b) => b.name), 2_000));
  const lines = conclusions(flaky, rows, runs, 2_000);
  const line = lines.find((l) => l.startsWith("Share sent to flaky"));
  assert.equal(
    line,
    "Share sent to flaky (20.0% injected 500s): from 1.0% (`peak_ewma`, 0.0% errors overall) to 25.0% " +
      "(`round_robin`, 5.0% errors overall).",
  );
  assert.ok(
    lines.includes(
      "Passive health ejected flaky during `peak_ewma`'s run, so its shares are partly the proxy's outlier " +
        "detection, not the strategy.",
    ),
  );
});
