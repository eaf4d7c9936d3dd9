import assert from "node:assert/strict";
import { rowOf } from "../../../demo/compare/figures.ts";
import { latencyChart, shareChart } from "../../../demo/compare/svg.ts";
import { runOf, spread } from "../../_util/compare.ts";

const rows = [
  rowOf(
    runOf({ strategy: "round_robin", latencies: spread(900, 5, 900), failed: 100, routed: { a: 3, b: 1 } }),
    [
      "a",
      "b",
    ],
    2_000,
  ),
  rowOf(runOf({ strategy: "peak_<ewma>", latencies: spread(1_000, 5, 100), routed: { a: 1, b: 1 } }), [
    "a",
    "b",
  ], 2_000),
];

/** Every `<rect>` with a `<title>`: the bars. */
function bars(svg: string): { y: number; height: number; title: string; dashed: boolean }[] {
  return [
    ...svg.matchAll(
      /<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"([^>]*)><title>([^<]+)<\/title>/g,
    ),
  ]
    .map((m) => ({
      y: Number(m[1]),
      height: Number(m[2]),
      dashed: m[3].includes("stroke-dasharray"),
      title: m[4],
    }));
}

Deno.test("latencyChart() draws one bar per percentile and strategy on a log axis, lower bounds dashed", () => {
  const svg = latencyChart("one-slow: latency", rows);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="760" height="380"/);
  const drawn = bars(svg);
  assert.equal(drawn.length, 8);
  assert.deepEqual(drawn.map((b) => b.title).slice(0, 4), [
    "round_robin p50: ≥452 ms",
    "round_robin p90: ≥2000 ms",
    "round_robin p99: ≥2000 ms",
    "round_robin p99.9: ≥2000 ms",
  ]);
  assert.equal(drawn[4].title, "peak_&#60;ewma&#62; p50: 52 ms", "names are escaped");
  assert.deepEqual(drawn.map((b) => b.dashed), [true, true, true, true, false, false, false, false]);
  assert.ok(drawn[1].y < drawn[0].y && drawn[4].y > drawn[7].y, "slower is taller");
  // Log scale from the decade below the smallest figure (52 ms) to the one above the largest: ticks
  // 1, 2, 5 per decade, and every decade the same height.
  const ticks = new Map(
    [...svg.matchAll(/<line x1="64" x2="744" y1="([\d.]+)"[^>]*\/>\n<text [^>]*>(\d+)<\/text>/g)].map((m) => [
      Number(m[2]),
      Number(m[1]),
    ]),
  );
  assert.deepEqual([...ticks.keys()], [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]);
  const decade = ticks.get(10)! - ticks.get(100)!;
  assert.ok(Math.abs(ticks.get(100)! - ticks.get(1000)! - decade) < 0.2);
  assert.ok(Math.abs(ticks.get(1000)! - ticks.get(10000)! - decade) < 0.2);
  assert.ok(Math.abs(drawn[1].y - ticks.get(2000)!) < 0.2, "a ≥2000 bar reaches the 2000 line");
});

Deno.test("shareChart() stacks each strategy's shares to the full height", () => {
  const svg = shareChart("one-slow: share", rows, ["a", "b"]);
  const drawn = bars(svg);
  assert.deepEqual(drawn.map((b) => b.title), [
    "round_robin → a: 75.0%",
    "round_robin → b: 25.0%",
    "peak_&#60;ewma&#62; → a: 50.0%",
    "peak_&#60;ewma&#62; → b: 50.0%",
  ]);
  const height = (i: number, j: number) => drawn[i].height + drawn[j].height;
  assert.ok(Math.abs(height(0, 1) - height(2, 3)) < 0.2, "both bars are full height");
  assert.ok(Math.abs(drawn[0].height - 3 * drawn[1].height) < 0.2);
});
