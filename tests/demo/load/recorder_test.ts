import { deepEqual, equal, ok } from "node:assert/strict";
import { createRecorder } from "../../../demo/load/recorder.ts";

/** Within HDR's three significant digits. */
function close(actual: number | undefined, expected: number, what: string) {
  ok(
    actual !== undefined && Math.abs(actual - expected) <= expected * 0.001 + 0.001,
    `${what}: ${actual} vs ${expected}`,
  );
}

Deno.test("createRecorder() percentiles match the recorded latencies", () => {
  const recorder = createRecorder();
  // 1..1000 ms: p50 = 500, p90 = 900, p99 = 990, p99.9 = 999, max 1000.
  for (let ms = 1; ms <= 1_000; ms++) recorder.response(200, ms, undefined);
  const l = recorder.counts().latencyMs!;
  close(l.min, 1, "min");
  close(l.p50, 500, "p50");
  close(l.p90, 900, "p90");
  close(l.p99, 990, "p99");
  close(l.p999, 999, "p99.9");
  close(l.max, 1_000, "max");
  close(l.mean, 500.5, "mean");
  close(recorder.p99(), 990, "p99()");
});

Deno.test("createRecorder() keeps sub-millisecond and hour-long latencies", () => {
  const recorder = createRecorder();
  recorder.response(200, 0.25, undefined);
  recorder.response(200, 5 * 3_600_000, undefined);
  const l = recorder.counts().latencyMs!;
  close(l.min, 0.25, "min");
  close(l.max, 3_600_000, "max is capped at one hour");
});

Deno.test("createRecorder() counts statuses, 5xx, failures by kind, backends and cancellations", () => {
  const recorder = createRecorder();
  for (let i = 0; i < 6; i++) recorder.sent();
  recorder.response(200, 1, "a");
  recorder.response(200, 1, "b");
  recorder.response(503, 1, "a");
  recorder.failure("timeout");
  recorder.failure("reset");
  recorder.cancelled();
  const c = recorder.counts();
  equal(c.sent, 6);
  equal(c.completed, 3);
  equal(c.serverErrors, 1);
  equal(c.failed, 2);
  equal(c.cancelled, 1);
  deepEqual(c.statuses, { "200": 2, "503": 1 });
  deepEqual(c.errors, { timeout: 1, connect: 0, reset: 1, other: 0 });
  deepEqual(c.backends, { a: 2, b: 1 });
});

Deno.test("createRecorder() has no latency before the first response", () => {
  const recorder = createRecorder();
  equal(recorder.counts().latencyMs, undefined);
  equal(recorder.p99(), 0);
});
