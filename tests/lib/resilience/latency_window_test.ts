import assert from "node:assert/strict";
import { LatencyWindow } from "../../../lib/resilience/latency_window.ts";

Deno.test("LatencyWindow.percentile() estimates within a bucket's resolution", () => {
  const w = new LatencyWindow({ now: () => 0, minSamples: 1 });
  for (let i = 1; i <= 1000; i++) w.observe(i / 10); // 0.1 .. 100 ms, uniform
  const p95 = w.percentile(95)!;
  assert.ok(Math.abs(p95 - 95) / 95 < 0.2, `p95 ${p95} within 20% of 95`);
  const p50 = w.percentile(50)!;
  assert.ok(Math.abs(p50 - 50) / 50 < 0.2, `p50 ${p50} within 20% of 50`);
});

Deno.test("LatencyWindow.percentile() is undefined below minSamples", () => {
  const w = new LatencyWindow({ now: () => 0 });
  for (let i = 0; i < 49; i++) w.observe(10);
  assert.equal(w.percentile(95), undefined);
  w.observe(10);
  assert.ok(w.percentile(95) !== undefined, "50 samples are enough by default");
});

Deno.test("LatencyWindow forgets samples that left the 10 s window, slice by slice", () => {
  const clock = { t: 0 };
  const w = new LatencyWindow({ now: () => clock.t, minSamples: 1 });
  for (let i = 0; i < 100; i++) w.observe(500);
  clock.t = 5_000;
  for (let i = 0; i < 100; i++) w.observe(5);
  assert.equal(w.count, 200);
  assert.ok(w.percentile(95)! > 300, "the slow second still counts");
  clock.t = 10_500; // the first slice (0-1 s) expired, the second batch (5 s) has not
  assert.equal(w.count, 100);
  assert.ok(w.percentile(95)! < 10, `only the fast ones remain: ${w.percentile(95)}`);
  clock.t = 60_000;
  assert.equal(w.count, 0);
  assert.equal(w.percentile(95), undefined);
});
