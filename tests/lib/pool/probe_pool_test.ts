import assert from "node:assert/strict";
import { Backend } from "../../../lib/pool/backend.ts";
import { ProbePool } from "../../../lib/pool/probe_pool.ts";
import { ANSWER_RESERVE, reuseLimit } from "../../../lib/pool/prober.ts";
import { PREQUAL_DEFAULTS } from "../../../lib/config/prequal.ts";

function setup(limits = { size: 3, maxAgeMs: 1_000, reuse: 2 }) {
  const clock = { now: 0 };
  const pool = new ProbePool(limits, () => clock.now);
  const backends = ["a", "b", "c", "d"].map((n, i) => new Backend(i, n, `http://127.0.0.1:${9000 + i}`, 1));
  return { clock, pool, backends };
}

Deno.test("ProbePool.add() keeps one answer per backend and shows it as the backend's probe", () => {
  const { clock, pool, backends: [a] } = setup();
  pool.add(a, 4, 20);
  assert.deepEqual(a.probe, { rif: 4, latencyMs: 20, at: 0, usesLeft: 2 });
  clock.now = 5;
  pool.add(a, 1, 10);
  assert.equal(pool.size, 1);
  assert.deepEqual(a.probe, { rif: 1, latencyMs: 10, at: 5, usesLeft: 2 });
  assert.equal(pool.entry(a), a.probe);
  clock.now = 12;
  assert.equal(pool.ageOf(a), 7);
});

Deno.test("ProbePool is bounded: when full, the oldest answer leaves", () => {
  const { clock, pool, backends: [a, b, c, d] } = setup();
  for (const x of [a, b, c]) {
    pool.add(x, 1, 1);
    clock.now++;
  }
  pool.add(a, 2, 2); // a's answer is now the newest
  pool.add(d, 3, 3);
  assert.equal(pool.size, 3);
  assert.equal(b.probe, undefined, "b's answer was the oldest");
  assert.ok(a.probe && c.probe && d.probe);
  pool.configure({ size: 1, maxAgeMs: 1_000, reuse: 2 });
  assert.equal(pool.size, 1);
  assert.ok(d.probe, "a smaller pool keeps the newest");
  assert.equal(a.probe, undefined);
});

Deno.test("ProbePool.expire() drops answers older than max_age, and only those", () => {
  const { clock, pool, backends: [a, b] } = setup();
  pool.add(a, 1, 1);
  clock.now = 600;
  pool.add(b, 1, 1);
  clock.now = 1_000;
  pool.expire();
  assert.ok(a.probe, "exactly max_age old is still young enough");
  clock.now = 1_001;
  pool.expire();
  assert.equal(a.probe, undefined);
  assert.ok(b.probe);
  clock.now = 1_601;
  pool.expire();
  assert.equal(pool.size, 0);
  assert.equal(b.probe, undefined);
});

Deno.test("ProbePool.use() adds the routed request to the answer's RIF and drops it after `reuse` uses", () => {
  const { pool, backends: [a, b] } = setup();
  pool.add(a, 3, 10);
  pool.use(a);
  assert.deepEqual([a.probe?.rif, pool.entry(a)?.usesLeft], [4, 1]);
  pool.use(a);
  assert.equal(a.probe, undefined, "used up");
  pool.use(b); // no answer: nothing happens
  assert.equal(pool.size, 0);
});

Deno.test("ProbePool.drop() and clear() forget answers and clear the backends' probe", () => {
  const { pool, backends: [a, b] } = setup();
  pool.add(a, 1, 1);
  pool.add(b, 1, 1);
  pool.drop(a);
  assert.equal(a.probe, undefined);
  pool.clear();
  assert.equal(b.probe, undefined);
  assert.equal(pool.size, 0);
});

Deno.test("reuseLimit() gives about eight times the uses requests consume", () => {
  assert.equal(ANSWER_RESERVE, 8);
  assert.equal(reuseLimit(PREQUAL_DEFAULTS), 16); // one probe every other request
  assert.equal(reuseLimit({ ...PREQUAL_DEFAULTS, probeRate: 1 }), 8);
  assert.equal(reuseLimit({ ...PREQUAL_DEFAULTS, probeRate: 0.25 }), 32);
  assert.equal(reuseLimit({ ...PREQUAL_DEFAULTS, probeRate: 3, maxProbeShare: 0.8 }), 3);
  // The default share (half the traffic) allows one probe per request, whatever the rate asks.
  assert.equal(reuseLimit({ ...PREQUAL_DEFAULTS, probeRate: 3 }), 8);
  // The share caps the rate: 0.2 of the traffic is 0.25 probes per request.
  assert.equal(reuseLimit({ ...PREQUAL_DEFAULTS, probeRate: 3, maxProbeShare: 0.2 }), 32);
  assert.equal(reuseLimit({ ...PREQUAL_DEFAULTS, probeRate: 16, maxProbeShare: 0.95 }), 1);
});
