import assert from "node:assert/strict";
import { judgeLeaders } from "../../../demo/compare/leader.ts";
import { scenarioOutcome } from "../../../demo/compare/result.ts";
import { scenarioReport } from "../../../demo/compare/report.ts";
import { SCENARIOS } from "../../../demo/compare/scenarios.ts";
import { runOf, spread } from "../../_util/compare.ts";
import type { CompareResult } from "../../../demo/compare/result.ts";

const mixed = { x1: 60, x2: 120, x4: 240 };
const four = { a: 120, b: 120, c: 120, d: 120 };

/** An outcome of `scenario` where each strategy's latencies run evenly from 20 ms to `p100[s]`. */
function outcome(scenario: string, p100: Record<string, number>, failed: Record<string, number> = {}) {
  const s = SCENARIOS[scenario];
  const routed = s.backends.length === 3 ? mixed : four;
  const runs = Object.entries(p100).map(([strategy, high]) =>
    runOf({ strategy, latencies: spread(1_000, 20, high), routed, failed: failed[strategy] })
  );
  return scenarioOutcome(s, [runs], 2_000);
}

Deno.test("judgeLeaders() meets the two-proxies goal when prequal is lowest there and within 10% elsewhere", () => {
  const [uniform, two, heterogeneous] = judgeLeaders([
    outcome("uniform", { least_connections: 50, peak_ewma: 45, prequal: 49 }),
    outcome("two-proxies", { least_connections: 90, peak_ewma: 70, prequal: 60 }),
    outcome("heterogeneous", { least_connections: 60, prequal: 55 }),
  ]);
  assert.equal(uniform.leader, undefined, "only scenarios with a leader goal are judged");
  const leader = two.leader!;
  assert.equal(leader.met, true);
  assert.equal(leader.lowest, true);
  assert.deepEqual(
    leader.singles.map((c) => [c.scenario, c.best, c.within]),
    [["uniform", "peak_ewma", true], ["heterogeneous", "prequal", true]],
  );
  // p99 of 1000 evenly spread latencies from 20 to 45 ms is about 44.7 ms, shown as 45; of 49, 49.
  assert.equal(
    two.conclusions[2],
    "Goal (`prequal` has the lowest p99 here, and is within 10% of the best in the single-proxy scenarios): " +
      "met. Here 60 ms against `peak_ewma`'s 70 ms, the best of the others; single-proxy scenarios: 2 of 2 " +
      "within 10% (uniform 49 ms against `peak_ewma`'s 45 ms, 1.09x; heterogeneous 55 ms against itself, 1.00x).",
  );
  assert.equal(heterogeneous.leader, undefined);
});

Deno.test("judgeLeaders() says not met when prequal is beaten here, or more than 10% behind elsewhere", () => {
  const beaten = judgeLeaders([
    outcome("uniform", { peak_ewma: 45, prequal: 46 }),
    outcome("two-proxies", { peak_ewma: 55, prequal: 60 }),
  ])[1].leader!;
  assert.equal(beaten.met, false);
  assert.equal(beaten.lowest, false);
  const behind = judgeLeaders([
    outcome("uniform", { peak_ewma: 45, prequal: 60 }),
    outcome("two-proxies", { peak_ewma: 90, prequal: 60 }),
  ])[1].leader!;
  assert.equal(behind.met, false);
  assert.equal(behind.lowest, true);
  assert.deepEqual(behind.singles.map((c) => c.within), [false]);
  // A lower bound on prequal's p99 (timeouts) shows nothing: not lowest, not within.
  const bound = judgeLeaders([
    outcome("uniform", { peak_ewma: 45, prequal: 40 }, { prequal: 50 }),
    outcome("two-proxies", { peak_ewma: 90, prequal: 60 }, { prequal: 20 }),
  ])[1].leader!;
  assert.equal(bound.lowest, false);
  assert.deepEqual(bound.singles.map((c) => c.within), [false]);
});

Deno.test("judgeLeaders() calls a half it could not measure not measured, never met", () => {
  const alone = judgeLeaders([outcome("two-proxies", { peak_ewma: 90, prequal: 60 })])[0];
  assert.equal(alone.leader!.met, undefined);
  assert.match(
    alone.conclusions[2],
    /: not measured\. Here 60 ms .*single-proxy scenarios: not measured in this run/,
  );
  const without = judgeLeaders([
    outcome("uniform", { peak_ewma: 45 }),
    outcome("two-proxies", { peak_ewma: 90 }),
  ])[1];
  assert.equal(without.leader!.met, undefined);
  assert.match(without.conclusions[2], /Here: not measured, the run lacks it/);
});

Deno.test("scenarioReport() of two-proxies has the goal section with the single-proxy table", () => {
  const scenarios = judgeLeaders([
    outcome("uniform", { peak_ewma: 45, prequal: 49 }),
    outcome("two-proxies", { least_connections: 90, peak_ewma: 70, least_resources: 80, prequal: 60 }),
  ]);
  const result: CompareResult = {
    command: "deno task compare",
    startedAt: "2026-01-01T00:00:00.000Z",
    settings: { seed: 1, warmupMs: 500, durationMs: 2_500, timeoutMs: 2_000 },
    repeat: 1,
    machine: { cores: 2, deno: "2.9.6", v8: "x", platform: "linux x86_64" },
    scenarios,
  };
  const markdown = scenarioReport(result, scenarios[1]).get("compare-two-proxies.md")!;
  assert.match(
    markdown,
    /## Goal\n\n`prequal` has the lowest p99 here, .*: \*\*met\*\*\. Here `prequal` had the lowest p99/,
  );
  assert.match(markdown, /\| uniform \| peak_ewma \| 45 \| 49 \| 1\.09x \| yes \|/);
  assert.match(markdown, /from 16 open-loop clients, taking turns between 2 proxies \(8 clients each\)/);
  assert.match(markdown, /each of the 2 proxies has its own, with the same config/);
  assert.match(markdown, /`least_resources` gets no container stats here/);
  assert.match(markdown, /`prequal` probes the backends' `\/health`/);
});
