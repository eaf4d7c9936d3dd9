import assert from "node:assert/strict";
import { Pool } from "../../../lib/pool/pool.ts";

const specs = [
  { name: "a", url: "http://127.0.0.1:1", weight: 1, maxConnections: 2 },
  { name: "b", url: "http://127.0.0.1:2", weight: 1 },
];

function healthyPool() {
  const pool = new Pool(specs);
  for (const b of pool.all()) pool.setState(b, "healthy");
  return pool;
}

Deno.test("Pool.eligible() keeps its identity while in-flight counts change below the limit", () => {
  const pool = healthyPool();
  const [a, b] = pool.all();
  const list = pool.eligible();
  pool.take(b);
  pool.take(b);
  pool.take(a);
  pool.give(a);
  pool.give(b);
  assert.equal(pool.eligible(), list, "same array: nothing crossed a limit");
});

Deno.test("Pool.eligible() drops a backend at max_connections and restores it below", () => {
  const pool = healthyPool();
  const [a] = pool.all();
  let capacity = 0;
  pool.onCapacity(() => capacity++);
  pool.take(a);
  const before = pool.eligible();
  pool.take(a);
  assert.deepEqual(pool.eligible().map((x) => x.name), ["b"]);
  const atLimit = pool.eligible();
  pool.take(a); // a retry may exceed the limit when nothing else is eligible; it stays out
  pool.give(a);
  assert.equal(pool.eligible(), atLimit, "still at the limit: no rebuild");
  pool.give(a);
  assert.deepEqual(pool.eligible().map((x) => x.name), ["a", "b"]);
  assert.notEqual(pool.eligible(), before);
  assert.equal(capacity, 1, "one slot freed, one wake-up");
  assert.equal(pool.hasHealthy(), true);
});

Deno.test("Pool.remove() keeps a busy backend retiring until its last request ends", () => {
  const pool = healthyPool();
  const [a] = pool.all();
  const retired: string[] = [];
  pool.onRetired((b) => retired.push(b.name));
  pool.take(a);
  pool.remove("a");
  assert.equal(a.state, "draining");
  assert.deepEqual(pool.retiring(), [a]);
  assert.deepEqual(pool.eligible().map((x) => x.name), ["b"]);
  assert.deepEqual(retired, []);
  pool.give(a);
  assert.deepEqual(retired, ["a"]);
  assert.deepEqual(pool.retiring(), []);
  pool.remove("b");
  assert.deepEqual(retired, ["a", "b"], "an idle backend retires at once");
});

Deno.test("Pool.setState() starts slow start on recovery and for late joiners, not for the first round", () => {
  const clock = { now: () => t, windowMs: 1000 };
  let t = 0;
  const pool = new Pool(specs, { slowStart: clock });
  const [a, b] = pool.all();
  pool.setState(a, "healthy");
  assert.equal(a.weight, 1, "first round: full weight at once");
  pool.markStarted();
  pool.setState(b, "healthy");
  assert.equal(b.weight, 0.1, "joined after start: ramps");
  pool.setState(a, "ejected");
  t = 100;
  pool.setState(a, "healthy");
  t = 600;
  assert.ok(Math.abs(a.weight - 0.55) < 1e-9, `half way: ${a.weight}`);
  t = 1100;
  assert.equal(a.weight, 1);
  assert.equal(a.rampStart, undefined, "ramp finished");
});

Deno.test("Pool.update() changes weight in place and applies a new limit", () => {
  const pool = healthyPool();
  const [a] = pool.all();
  pool.take(a);
  pool.update(a, { name: "a", url: a.url, weight: 5, maxConnections: 1 });
  assert.equal(a.weight, 5);
  assert.deepEqual(pool.eligible().map((x) => x.name), ["b"]);
  pool.update(a, { name: "a", url: a.url, weight: 5 });
  assert.deepEqual(pool.eligible().map((x) => x.name), ["a", "b"]);
});

Deno.test("Pool.members() holds every backend past its first check, whatever its state, as one array", () => {
  const pool = healthyPool();
  const members = pool.members();
  assert.deepEqual(members.map((b) => b.name), ["a", "b"]);
  // Health, drain and limits change eligibility, never the membership.
  pool.setState(pool.get("a")!, "unhealthy");
  pool.setState(pool.get("b")!, "draining");
  pool.take(pool.get("a")!);
  assert.equal(pool.members(), members);
  // A new backend joins the membership with its first check, not before; a removed one leaves.
  const c = pool.add({ name: "c", url: "http://127.0.0.1:3", weight: 1 });
  assert.equal(pool.members(), members);
  pool.setState(c, "unhealthy");
  assert.deepEqual(pool.members().map((b) => b.name), ["a", "b", "c"]);
  pool.remove("b");
  assert.deepEqual(pool.members().map((b) => b.name), ["a", "c"]);
  const d = pool.add({ name: "d", url: "http://127.0.0.1:4", weight: 1 });
  pool.remove("d");
  assert.deepEqual(pool.members().map((b) => b.name), ["a", "c"], `${d.name} never was a member`);
});
