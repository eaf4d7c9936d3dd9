import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { Metrics } from "../../../lib/metrics/proxy_metrics.ts";
import { Balancer } from "../../../lib/pool/balancer.ts";
import { Pool } from "../../../lib/pool/pool.ts";

function balancer(clock: { t: number }) {
  const pool = new Pool([{ name: "a", url: "http://127.0.0.1:1", weight: 1 }]);
  const metrics = new Metrics(new Registry(), false).service("web", () => pool.all());
  return new Balancer(pool, metrics, "round_robin", { random: Math.random, now: () => clock.t });
}

Deno.test("Balancer.recentChanges() lists the switches within the span, oldest first, with their age", () => {
  const clock = { t: 100_000 };
  const b = balancer(clock);
  assert.deepEqual(b.recentChanges(60_000), [], "the starting strategy is no switch");
  b.setStrategy("random");
  clock.t += 5_000;
  b.setStrategy("random"); // the same strategy again: no switch
  b.setStrategy("least_connections");
  clock.t += 2_000;
  assert.deepEqual(b.recentChanges(60_000), [
    { from: "round_robin", to: "random", agoMs: 7_000 },
    { from: "random", to: "least_connections", agoMs: 2_000 },
  ]);
  assert.deepEqual(b.recentChanges(5_000).map((c) => c.to), ["least_connections"]);
});

Deno.test("Balancer.recentChanges() keeps the last 16 switches only", () => {
  const clock = { t: 0 };
  const b = balancer(clock);
  for (let i = 0; i < 20; i++) {
    clock.t += 10;
    b.setStrategy(i % 2 === 0 ? "random" : "round_robin");
  }
  const kept = b.recentChanges(Infinity);
  assert.equal(kept.length, 16);
  assert.deepEqual(kept[0], { from: "round_robin", to: "random", agoMs: 150 }, "the fifth switch");
  assert.deepEqual(kept.at(-1), { from: "random", to: "round_robin", agoMs: 0 });
});

function pool3() {
  const pool = new Pool(["a", "b", "c"].map((name, i) => ({
    name,
    url: `http://127.0.0.1:${i + 1}`,
    weight: 1,
    ...(name === "c" ? { maxConnections: 1 } : {}),
  })));
  for (const b of pool.all()) pool.setState(b, "healthy");
  const metrics = new Metrics(new Registry(), false).service("web", () => pool.all());
  return {
    pool,
    balancer: new Balancer(pool, metrics, "round_robin", { random: Math.random, now: () => 0 }),
  };
}

Deno.test("Balancer.acquireOther() never returns an excluded backend, even when nothing else is eligible", () => {
  const { pool, balancer } = pool3();
  const [a, b, c] = pool.all();
  for (let i = 0; i < 6; i++) {
    const got = balancer.acquireOther({ hashKey: "" }, [a])!;
    assert.notEqual(got, a);
    balancer.release(got, { latencyMs: 1, ok: true });
  }
  pool.setState(b, "unhealthy");
  pool.take(c); // c at its max_connections
  assert.equal(balancer.acquireOther({ hashKey: "" }, [a]), undefined);
  assert.equal(a.inFlight, 0, "nothing counted");
});

Deno.test("Balancer.acquireThis() takes a healthy member below its limit, and nothing else", () => {
  const { pool, balancer } = pool3();
  const [a, b, c] = pool.all();
  assert.equal(balancer.acquireThis(c), true);
  assert.equal(c.inFlight, 1);
  assert.equal(balancer.acquireThis(c), false, "at max_connections");
  pool.setState(b, "ejected");
  assert.equal(balancer.acquireThis(b), false, "ejected");
  pool.remove("a");
  assert.equal(balancer.acquireThis(a), false, "removed (draining)");
  assert.deepEqual([a.inFlight, b.inFlight, c.inFlight], [0, 0, 1]);
});
