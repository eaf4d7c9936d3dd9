import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { MergedMetrics, type MetricJson } from "../../../lib/metrics/merge.ts";
import { Metrics } from "../../../lib/metrics/proxy_metrics.ts";
import { parseMetrics } from "../../_util/harness.ts";

/** An isolate's registry with the proxy's own metrics, one backend `b` in service `web`. */
function isolate(requests: number, up = true) {
  const registry = new Registry();
  const metrics = new Metrics(registry, false);
  const view = metrics.service(
    "web",
    () => [{ name: "b", inFlight: 1, state: up ? "healthy" : "unhealthy" }],
  );
  view.setStrategy("round_robin");
  view.addBackend("b", "round_robin");
  for (let i = 0; i < requests; i++) {
    view.countRequest("b", "round_robin", "GET", 200);
    view.observeDuration("b", "round_robin", 0.004);
  }
  // Cloned, as an answer crossing postMessage is: prom-client's own objects change with each count.
  const json = async () => structuredClone(await registry.getMetricsAsJSON()) as unknown as MetricJson[];
  return { registry, view, json };
}

const REQUESTS =
  'lb_requests_total{service="web",backend="b",strategy="round_robin",method="GET",code="200",protocol="http/1.1"}';

Deno.test("MergedMetrics sums counters, histograms and in-flight; mirrored gauges are the owner's", async () => {
  const [owner, w1, w2] = [isolate(3), isolate(4), isolate(5, false)];
  const merged = new MergedMetrics({ keep: () => true });
  const text = await merged.exposition(
    await owner.json(),
    new Map([[1, await w1.json()], [2, await w2.json()]]),
  );
  const m = parseMetrics(text);
  assert.equal(m.get(REQUESTS), 12);
  assert.equal(
    m.get('lb_request_duration_seconds_count{service="web",backend="b",strategy="round_robin"}'),
    12,
  );
  assert.equal(
    m.get('lb_request_duration_seconds_bucket{le="0.005",service="web",backend="b",strategy="round_robin"}'),
    12,
  );
  assert.equal(m.get('lb_active_connections{service="web",backend="b"}'), 3);
  // Worker 2's mirror lags (unhealthy): the owner's value wins, and nothing is summed to 2 or 3.
  assert.equal(m.get('lb_backend_up{service="web",backend="b"}'), 1);
  assert.equal(m.get('lb_strategy_info{service="web",strategy="round_robin"}'), 1);
  assert.equal([...m].filter(([k]) => k.startsWith("lb_build_info")).map(([, v]) => v).join(), "1");
  assert.match(text, /# TYPE lb_request_duration_seconds histogram/);
});

Deno.test("MergedMetrics uses a worker's last answer when it does not answer in time", async () => {
  const [owner, w1] = [isolate(1), isolate(2)];
  const merged = new MergedMetrics({ keep: () => true });
  await merged.exposition(await owner.json(), new Map([[1, await w1.json()]]));
  for (let i = 0; i < 5; i++) w1.view.countRequest("b", "round_robin", "GET", 200);
  const late = parseMetrics(await merged.exposition(await owner.json(), new Map([[1, undefined]])));
  assert.equal(late.get(REQUESTS), 3, "stale, never smaller");
  const fresh = parseMetrics(await merged.exposition(await owner.json(), new Map([[1, await w1.json()]])));
  assert.equal(fresh.get(REQUESTS), 8);
});

Deno.test("MergedMetrics keeps a retired worker's counts, so a restart never makes a counter go backwards", async () => {
  const [owner, w1] = [isolate(1), isolate(10)];
  const merged = new MergedMetrics({ keep: () => true });
  const before = parseMetrics(await merged.exposition(await owner.json(), new Map([[1, await w1.json()]])));
  await merged.retire(1);
  const restarted = isolate(0);
  const after = parseMetrics(
    await merged.exposition(await owner.json(), new Map([[1, await restarted.json()]])),
  );
  for (const [k, v] of before) {
    if (k.startsWith("lb_requests_total") || k.startsWith("lb_request_duration")) {
      assert.equal(after.get(k), v, k);
    }
  }
  // Gauges are not kept: a dead worker has nothing in flight.
  assert.equal(after.get('lb_active_connections{service="web",backend="b"}'), 2);
  for (let i = 0; i < 4; i++) restarted.view.countRequest("b", "round_robin", "GET", 200);
  await merged.retire(1); // retiring again adds to what was kept
  const again = parseMetrics(await merged.exposition(await owner.json(), new Map()));
  assert.equal(again.get(REQUESTS), 11);
});

Deno.test("MergedMetrics drops retired series whose backend is gone", async () => {
  const [owner, w1] = [isolate(1), isolate(10)];
  let known = true;
  const merged = new MergedMetrics({ keep: (labels) => known || labels.backend !== "b" });
  await merged.exposition(await owner.json(), new Map([[1, await w1.json()]]));
  await merged.retire(1);
  known = false;
  const empty = new Registry();
  const m = parseMetrics(await merged.exposition((await empty.getMetricsAsJSON()) as never, new Map()));
  assert.equal(m.get(REQUESTS), undefined);
});

Deno.test("MergedMetrics merges plain prom-client metrics by each metric's aggregator", async () => {
  const regs = [new Registry(), new Registry()];
  regs.forEach((r, i) => {
    new Counter({ name: "c_total", help: "c", registers: [r] }).inc(i + 1);
    new Gauge({ name: "g_max", help: "g", aggregator: "max", registers: [r] }).set(i * 10);
    new Histogram({ name: "h", help: "h", buckets: [1], registers: [r] }).observe(0.5);
  });
  const [a, b] = await Promise.all(regs.map((r) => r.getMetricsAsJSON()));
  const m = parseMetrics(
    await new MergedMetrics({ keep: () => true }).exposition(a as never, new Map([[1, b as never]])),
  );
  assert.equal(m.get("c_total"), 3);
  assert.equal(m.get("g_max"), 10);
  assert.equal(m.get('h_bucket{le="1"}'), 2);
});
