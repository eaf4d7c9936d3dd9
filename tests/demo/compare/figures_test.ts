import assert from "node:assert/strict";
import { formatFigure, rowOf } from "../../../demo/compare/figures.ts";
import { runOf, spread } from "../../_util/compare.ts";

Deno.test("rowOf() takes percentiles and shares from the run", () => {
  const row = rowOf(runOf({ strategy: "rr", latencies: spread(1_000, 1, 100), routed: { a: 750, b: 250 } }), [
    "a",
    "b",
    "c",
  ], 2_000);
  assert.equal(row.strategy, "rr");
  assert.ok(Math.abs(row.p50.ms - 50.5) < 0.2, `p50 ${row.p50.ms}`);
  assert.ok(Math.abs(row.p99.ms - 99) < 0.2, `p99 ${row.p99.ms}`);
  assert.equal(row.p99.atLeast, false);
  assert.deepEqual(row.shares, { a: 0.75, b: 0.25, c: 0 });
  assert.deepEqual(row.routedRates, { a: 750, b: 250, c: 0 });
  assert.equal(row.errorRate, 0);
});

Deno.test("rowOf() counts unanswered requests: a lower bound below their share, the timeout beyond it", () => {
  // 5 of 1000 unanswered: p99 and below are lower bounds, p99.9 lies among the timeouts.
  const row = rowOf(
    runOf({ strategy: "x", latencies: spread(995, 10, 50), failed: 5, routed: { a: 1_000 } }),
    ["a"],
    2_000,
  );
  assert.equal(row.unanswered, 5);
  assert.equal(row.p99.atLeast, true);
  assert.ok(row.p99.ms < 51);
  assert.deepEqual(row.p999, { ms: 2_000, atLeast: true });
  assert.equal(formatFigure(row.p999), "≥2000");
  assert.equal(formatFigure(row.p50), `≥${Math.round(row.p50.ms)}`);
  assert.equal(row.errorRate, 0.005);
});

Deno.test("formatFigure() shows one decimal below 10 ms and whole numbers above", () => {
  assert.equal(formatFigure({ ms: 8.44, atLeast: false }), "8.4");
  assert.equal(formatFigure({ ms: 107.4, atLeast: false }), "107");
  assert.equal(formatFigure({ ms: 41, atLeast: true }), "≥41");
});
