import assert from "node:assert/strict";
import { rampFactor, SLOW_START_FLOOR } from "../../../lib/resilience/slow_start.ts";

Deno.test("rampFactor() grows linearly from 10% to full over the window", () => {
  assert.equal(rampFactor(0, 30_000), SLOW_START_FLOOR);
  assert.ok(Math.abs(rampFactor(15_000, 30_000) - 0.55) < 1e-12);
  assert.equal(rampFactor(30_000, 30_000), 1);
  assert.equal(rampFactor(90_000, 30_000), 1);
  assert.equal(rampFactor(-5, 30_000), SLOW_START_FLOOR, "clock before start: floor");
  for (let t = 0; t < 30_000; t += 1000) assert.ok(rampFactor(t + 1000, 30_000) > rampFactor(t, 30_000));
});

Deno.test("rampFactor() is 1 when slow start is off", () => {
  assert.equal(rampFactor(0, 0), 1);
});
