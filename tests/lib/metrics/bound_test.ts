import assert from "node:assert/strict";
import { Counter, Histogram, Registry } from "prom-client";
import { BoundCounter, BoundHistogram, RequestCounters } from "../../../lib/metrics/bound.ts";

/** Two registries, one updated through prom-client's children, one through bound series. */
function pair() {
  const make = () => {
    const registry = new Registry();
    const counter = new Counter({
      name: "c_total",
      help: "c",
      labelNames: ["a", "b"],
      registers: [registry],
    });
    const histogram = new Histogram({
      name: "h_seconds",
      help: "h",
      labelNames: ["a"],
      buckets: [0.01, 0.1, 1],
      registers: [registry],
    });
    return { registry, counter, histogram };
  };
  return { theirs: make(), ours: make() };
}

Deno.test("bound series expose exactly what prom-client's children do", async () => {
  const { theirs, ours } = pair();
  const c = new BoundCounter(ours.counter, { a: "x", b: "y" });
  const h = new BoundHistogram(ours.histogram, { a: "x" });
  for (const v of [0.001, 0.01, 0.05, 0.5, 2, 0]) {
    theirs.counter.labels({ a: "x", b: "y" }).inc();
    theirs.histogram.labels({ a: "x" }).observe(v);
    c.inc();
    h.observe(v);
  }
  assert.equal(await ours.registry.metrics(), await theirs.registry.metrics());
  assert.match(await ours.registry.metrics(), /c_total\{a="x",b="y"\} 6/);
  assert.match(await ours.registry.metrics(), /h_seconds_bucket\{le="0.01",a="x"\} 3/);
});

Deno.test("a bound series removed or reset comes back on its next update, from zero", async () => {
  const { theirs, ours } = pair();
  const c = new BoundCounter(ours.counter, { a: "x", b: "y" });
  const h = new BoundHistogram(ours.histogram, { a: "x" });
  c.inc(), c.inc(), h.observe(0.5);
  ours.counter.remove({ a: "x", b: "y" });
  ours.histogram.reset();
  c.inc(), h.observe(0.05), h.observe(0.05);
  theirs.counter.inc({ a: "x", b: "y" });
  theirs.histogram.observe({ a: "x" }, 0.05);
  theirs.histogram.observe({ a: "x" }, 0.05);
  assert.equal(await ours.registry.metrics(), await theirs.registry.metrics());
});

Deno.test("a histogram series zeroed beforehand is bound to, not duplicated", async () => {
  const { theirs, ours } = pair();
  ours.histogram.zero({ a: "x" });
  theirs.histogram.zero({ a: "x" });
  const h = new BoundHistogram(ours.histogram, { a: "x" });
  h.observe(0.2), h.observe(0.2);
  theirs.histogram.observe({ a: "x" }, 0.2);
  theirs.histogram.observe({ a: "x" }, 0.2);
  assert.equal(await ours.registry.metrics(), await theirs.registry.metrics());
});

Deno.test("a bound histogram refuses a value that is not finite, as prom-client does", () => {
  const { ours } = pair();
  const h = new BoundHistogram(ours.histogram, { a: "x" });
  h.observe(1);
  assert.throws(() => h.observe(NaN), TypeError);
});

Deno.test("RequestCounters keeps one series per method, code and protocol", async () => {
  const registry = new Registry();
  const counter = new Counter({
    name: "r_total",
    help: "r",
    labelNames: ["service", "method", "code", "protocol"],
    registers: [registry],
  });
  const series = new RequestCounters(counter, { service: "web" });
  assert.equal(series.get("GET", 200, "http/1.1"), series.get("GET", 200, "http/1.1"));
  series.get("GET", 200, "http/1.1").inc();
  series.get("GET", 200, "http/1.1").inc();
  series.get("GET", 404, "http/1.1").inc();
  series.get("POST", 200, "h2").inc();
  const text = await registry.metrics();
  assert.match(text, /r_total\{service="web",method="GET",code="200",protocol="http\/1.1"\} 2/);
  assert.match(text, /r_total\{service="web",method="GET",code="404",protocol="http\/1.1"\} 1/);
  assert.match(text, /r_total\{service="web",method="POST",code="200",protocol="h2"\} 1/);
});
