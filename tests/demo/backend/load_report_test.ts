import assert from "node:assert/strict";
import { createLoadTracker } from "../../../demo/backend/load_report.ts";
import { startBackend } from "../../../demo/backend/backend.ts";
import { parseLoadReport } from "../../../lib/upstream/mod.ts";

function tracker() {
  const clock = { now: 0, cpu: 0 };
  const load = createLoadTracker({ now: () => clock.now, cpuTime: () => clock.cpu, cores: 2 });
  return { clock, load };
}

Deno.test("createLoadTracker() counts requests in flight, the ones waiting for a slot included", () => {
  const { load } = tracker();
  assert.equal(load.arrive(), 0);
  assert.equal(load.arrive(), 1);
  assert.equal(load.inFlight, 2);
  load.depart(0, 10);
  assert.equal(load.inFlight, 1);
  assert.equal(load.header(), "TEXT named_metrics.rif=1, named_metrics.latency_ms=10");
});

Deno.test("createLoadTracker() estimates latency as the median of requests that found as many in flight", () => {
  const { load } = tracker();
  assert.equal(load.estimate(), undefined, "nothing completed yet");
  // Requests that found 0 in flight took 10-30 ms; those that found 2 took 50-70 ms.
  for (const ms of [30, 10, 20]) load.depart(load.arrive(), ms);
  assert.equal(load.estimate(), 20);
  load.arrive();
  load.arrive(); // 2 in flight now: no request found 2 yet, the nearest count seen (0) answers
  assert.equal(load.estimate(), 20);
  for (const ms of [70, 50, 60]) load.depart(2, ms), load.arrive();
  assert.equal(load.inFlight, 2);
  assert.equal(load.estimate(), 60);
  // The bucket keeps the last 16: older latencies stop counting.
  for (let i = 0; i < 16; i++) load.depart(2, 100), load.arrive();
  assert.equal(load.estimate(), 100);
});

Deno.test("createLoadTracker() reports the process's CPU over the last half second per core", () => {
  const { clock, load } = tracker();
  assert.doesNotMatch(load.header(), /cpu_utilization/, "no full window yet");
  clock.now = 500;
  clock.cpu = 250; // 250 ms of CPU in 500 ms on 2 cores
  assert.match(load.header(), /^TEXT cpu_utilization=0.25, named_metrics.rif=0$/);
  clock.now = 700;
  clock.cpu = 700;
  assert.match(load.header(), /cpu_utilization=0.25,/, "kept until the next window is complete");
  clock.now = 1_000;
  clock.cpu = 1_250; // 1000 ms of CPU in 500 ms on 2 cores: both busy
  assert.match(load.header(), /cpu_utilization=1,/);
});

Deno.test("the demo backend reports its load on served endpoints and /health", async () => {
  const backend = startBackend({ port: 0, host: "127.0.0.1", latencyMs: 300, capacity: 1 });
  try {
    const slow = [fetch(backend.url), fetch(backend.url), fetch(backend.url)];
    // Until all three have arrived: one is served, two wait for the one slot.
    let rif = -1;
    for (let i = 0; i < 50 && rif !== 3; i++) {
      const health = await fetch(`${backend.url}/health`);
      await health.body?.cancel();
      const report = parseLoadReport(health.headers.get("endpoint-load-metrics") ?? "");
      assert.ok(report.ok, "/health carries a valid report");
      rif = report.report.namedMetrics.rif;
      if (rif !== 3) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(rif, 3, "the two waiting for a slot count as in flight");
    for (const r of await Promise.all(slow)) {
      await r.body?.cancel();
      const report = parseLoadReport(r.headers.get("endpoint-load-metrics") ?? "");
      assert.ok(report.ok, "every served response carries a valid report");
      assert.ok(report.report.namedMetrics.latency_ms! > 0);
    }
  } finally {
    await backend.close();
  }
});
