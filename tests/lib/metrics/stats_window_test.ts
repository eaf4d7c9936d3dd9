import assert from "node:assert/strict";
import { LATENCY_BOUNDS_MS, quantile, StatsWindow } from "../../../lib/metrics/stats_window.ts";

/** A window on a clock the test moves by hand, started at t = 100 s. */
function windowAt(seconds = 60) {
  const clock = { t: 100_000 };
  return { clock, w: new StatsWindow({ now: () => clock.t, seconds }) };
}

function record(w: StatsWindow, backend: string, ms: number, code = 200) {
  w.countRequest(backend, "round_robin", code);
  w.observeDuration(backend, "round_robin", ms / 1000);
}

Deno.test("StatsWindow.snapshot() counts requests, errors and rate per backend", () => {
  const { clock, w } = windowAt();
  clock.t = 100_000;
  for (let s = 0; s < 10; s++) {
    for (let i = 0; i < 5; i++) record(w, "a", 3, i === 0 ? 503 : 200);
    record(w, "b", 3);
    clock.t += 1000;
  }
  const snap = w.snapshot();
  const a = snap.get("a")!;
  assert.equal(a.requests, 50);
  assert.equal(a.errorRatio, 0.2);
  // 10 s since the window started: the rate is not diluted by the 50 s not yet lived.
  assert.ok(Math.abs(a.rate - 5) < 1e-9, `rate ${a.rate}`);
  assert.equal(snap.get("b")!.requests, 10);
  assert.deepEqual(a.perSecond.slice(-10), Array(10).fill(5));
  assert.equal(a.perSecond.length, 59);
});

Deno.test("StatsWindow.snapshot() forgets seconds older than the window", () => {
  const { clock, w } = windowAt(5);
  record(w, "a", 1);
  clock.t += 3000;
  record(w, "a", 1);
  assert.equal(w.snapshot().get("a")!.requests, 2);
  clock.t += 3000; // the first second is now 6 s old
  assert.equal(w.snapshot().get("a")!.requests, 1);
  clock.t += 60_000; // the ring slot of the second one is reused only when written
  const idle = w.snapshot().get("a")!;
  assert.equal(idle.requests, 0);
  assert.equal(idle.p99, null);
  assert.equal(idle.rate, 0);
  assert.deepEqual(idle.p99PerSecond, [null, null, null, null]);
});

Deno.test("StatsWindow.snapshot(seconds) narrows the window", () => {
  const { clock, w } = windowAt();
  for (let s = 0; s < 30; s++) {
    record(w, "a", 2);
    clock.t += 1000;
  }
  clock.t += 500;
  assert.equal(w.snapshot(10).get("a")!.requests, 9);
  assert.equal(w.snapshot(10).get("a")!.perSecond.length, 9);
  assert.ok(Math.abs(w.snapshot(10).get("a")!.rate - 9 / 9.5) < 1e-9);
});

Deno.test("StatsWindow.snapshot() estimates p50 and p99 within a bucket's width", () => {
  const { clock, w } = windowAt();
  // 1..1000 ms uniformly: true p50 = 500, p99 = 990.
  for (let i = 1; i <= 1000; i++) record(w, "a", i);
  clock.t += 1000;
  const a = w.snapshot().get("a")!;
  assert.ok(a.p50! > 500 / 1.42 && a.p50! < 500 * 1.42, `p50 ${a.p50}`);
  assert.ok(a.p99! > 990 / 1.42 && a.p99! < 990 * 1.42, `p99 ${a.p99}`);
  assert.ok(a.p50! < a.p99!);
  assert.equal(a.p99PerSecond.at(-1), a.p99);
});

Deno.test("quantile() interpolates inside a bucket and caps the overflow bucket", () => {
  const hist = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
  assert.equal(quantile(hist, 0.5), null);
  hist[0] = 4;
  assert.equal(quantile(hist, 0.5), LATENCY_BOUNDS_MS[0] / 2);
  hist.fill(0);
  hist[LATENCY_BOUNDS_MS.length] = 1;
  assert.equal(quantile(hist, 0.99), LATENCY_BOUNDS_MS.at(-1));
});

Deno.test("StatsWindow rejects a window shorter than two seconds", () => {
  assert.throws(() => new StatsWindow({ now: () => 0, seconds: 1 }), RangeError);
});

Deno.test("ServiceMetrics.removeBackend() makes the stats window forget the backend", async () => {
  const { Registry } = await import("prom-client");
  const { Metrics } = await import("../../../lib/metrics/proxy_metrics.ts");
  const { clock, w } = windowAt();
  const metrics = new Metrics(new Registry(), false).service("default", () => []);
  metrics.addObserver(w);
  metrics.addBackend("gone", "round_robin");
  metrics.addBackend("kept", "round_robin");
  metrics.countRequest("gone", "round_robin", "GET", 200);
  metrics.countRequest("kept", "round_robin", "GET", 200);
  clock.t += 1000;
  assert.equal(w.snapshot().get("gone")?.requests, 1);
  await metrics.removeBackend("gone");
  assert.equal(w.snapshot().has("gone"), false);
  assert.equal(w.snapshot().get("kept")?.requests, 1);
});

Deno.test("StatsWindow.add() sums other windows' seconds, so quantiles come from the merged histogram", () => {
  const clock = { t: 100_000 };
  const [a, b] = [0, 1].map(() => new StatsWindow({ now: () => clock.t, seconds: 10 }));
  for (let s = 0; s < 5; s++) {
    for (let i = 0; i < 9; i++) record(a, "x", 2);
    record(b, "x", 200, 502);
    record(b, "y", 5);
    clock.t += 1000;
  }
  const merged = new StatsWindow({ now: () => clock.t, seconds: 10 });
  merged.add(a.dump());
  merged.add(structuredClone(b.dump())); // as it crosses postMessage
  const x = merged.snapshot().get("x")!;
  assert.equal(x.requests, 50);
  assert.equal(x.errorRatio, 0.1);
  assert.ok(x.p50! <= 3, `p50 ${x.p50} from the 45 fast ones`);
  assert.ok(x.p99! >= 150, `p99 ${x.p99} from the 5 slow ones`);
  assert.ok(Math.abs(x.rate - 10) < 1e-9, `rate over the 5 s lived: ${x.rate}`);
  assert.deepEqual(x.perSecond.slice(-5), Array(5).fill(10));
  assert.equal(merged.snapshot().get("y")!.requests, 5);
});

Deno.test("StatsWindow.add() ignores seconds that left the window", () => {
  const clock = { t: 100_000 };
  const old = new StatsWindow({ now: () => clock.t, seconds: 5 });
  record(old, "x", 1);
  const dump = old.dump();
  clock.t += 10_000;
  const merged = new StatsWindow({ now: () => clock.t, seconds: 5 });
  merged.add(dump);
  assert.equal(merged.snapshot().get("x")?.requests ?? 0, 0);
});
