import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { Metrics } from "../../../lib/metrics/proxy_metrics.ts";
import { Balancer } from "../../../lib/pool/balancer.ts";
import { Pool } from "../../../lib/pool/pool.ts";
import type { Backend } from "../../../lib/pool/backend.ts";

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

/** A replica's balancer over backends a..e (ids in `order`), with ip_hash. */
function replica(order: readonly string[]) {
  const pool = new Pool(order.map((name, i) => ({ name, url: `http://127.0.0.1:${9000 + i}`, weight: 1 })));
  const metrics = new Metrics(new Registry(), false).service("web", () => pool.all());
  for (const b of pool.all()) pool.setState(b, "healthy");
  return { pool, balancer: new Balancer(pool, metrics, "ip_hash", { random: Math.random, now: () => 0 }) };
}

/** The backend each of `keys` keys gets, released at once. */
function mapKeys(balancer: Balancer, keys: number, exclude: (key: string) => Backend[] = () => []): string[] {
  return Array.from({ length: keys }, (_, i) => {
    const b = balancer.acquire({ hashKey: `key-${i}` }, exclude(`key-${i}`))!;
    balancer.release(b, { latencyMs: 1, ok: true });
    return b.name;
  });
}

Deno.test("Balancer with ip_hash: replicas whose health views differ agree on every key of a healthy backend", () => {
  const one = replica(["a", "b", "c", "d", "e"]);
  const two = replica(["e", "c", "a", "d", "b"]);
  const before = mapKeys(one.balancer, 1_000);
  assert.deepEqual(mapKeys(two.balancer, 1_000), before, "same membership, same health: all 1,000 agree");
  // Replica two has seen c fail; replica one has not yet.
  two.pool.setState(two.pool.get("c")!, "unhealthy");
  const during = mapKeys(two.balancer, 1_000);
  for (let i = 0; i < 1_000; i++) {
    if (before[i] === "c") assert.notEqual(during[i], "c", `key-${i} still sent to the unhealthy backend`);
    else assert.equal(during[i], before[i], `key-${i} moved from ${before[i]} although it is healthy`);
  }
  two.pool.setState(two.pool.get("c")!, "healthy");
  assert.deepEqual(mapKeys(two.balancer, 1_000), before, "keys return when c recovers");
});

Deno.test("Balancer with ip_hash: a retry skips the backend tried, and a drained one, without moving others", () => {
  const { pool, balancer } = replica(["a", "b", "c"]);
  const first = mapKeys(balancer, 300);
  const retried = mapKeys(balancer, 300, (key) => [pool.get(first[Number(key.slice(4))])!]);
  retried.forEach((name, i) => assert.notEqual(name, first[i], `key-${i}: the retry went back to ${name}`));
  pool.setState(pool.get("a")!, "draining");
  const drained = mapKeys(balancer, 300);
  drained.forEach((name, i) => assert.equal(name, first[i] === "a" ? name : first[i]));
  assert.ok(!drained.includes("a"), "no new request for a drained backend");
  // Only one backend left and it was tried: the retry goes to it again rather than nowhere.
  pool.setState(pool.get("b")!, "draining");
  assert.deepEqual(new Set(mapKeys(balancer, 50, () => [pool.get("c")!])), new Set(["c"]));
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

Deno.test("Balancer.acquireOther() with ip_hash: never the excluded backend, and the backend a retry of the key gets", () => {
  const { pool, balancer } = replica(["a", "b", "c", "d"]);
  const first = mapKeys(balancer, 400);
  for (let i = 0; i < 400; i++) {
    const tried = [pool.get(first[i])!];
    const other = balancer.acquireOther({ hashKey: `key-${i}` }, tried)!;
    balancer.release(other, { latencyMs: 1, ok: true });
    assert.notEqual(other.name, first[i], `key-${i}: the hedge went to the backend it hedges`);
    const retry = balancer.acquire({ hashKey: `key-${i}` }, tried)!;
    balancer.release(retry, { latencyMs: 1, ok: true });
    assert.equal(other.name, retry.name, `key-${i}: hedge and retry agree`);
  }
  for (const name of ["b", "c", "d"]) pool.setState(pool.get(name)!, "draining");
  assert.equal(balancer.acquireOther({ hashKey: "key-0" }, [pool.get("a")!]), undefined);
});
