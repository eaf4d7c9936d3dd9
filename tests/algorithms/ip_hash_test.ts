import assert from "node:assert/strict";
import { createIpHash } from "../../algorithms/ip_hash.ts";
import type { Candidate, Strategy } from "../../algorithms/types.ts";
import { makeBackends } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";

const KEYS = 100_000;
/** Client keys as the shell produces them: canonical IPv4 and IPv6 addresses. */
const key = (
  i: number,
) => (i % 4 === 3 ? `2001:db8::${i.toString(16)}` : `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);

function create(seed = 61): Strategy {
  return createIpHash({ random: mulberry32(seed), now: () => 0 });
}

/** Backend name chosen for every key. */
function assignments(strategy: Strategy, list: readonly Candidate[]): string[] {
  return Array.from({ length: KEYS }, (_, i) => strategy.pick(list, { hashKey: key(i) })!.name);
}

Deno.test("createIpHash() sends a key to the same backend every time", () => {
  const strategy = create();
  const list = makeBackends([1, 1, 1, 1, 1]);
  for (let i = 0; i < 1000; i++) {
    const first = strategy.pick(list, { hashKey: key(i) });
    for (let j = 0; j < 3; j++) assert.equal(strategy.pick(list, { hashKey: key(i) }), first);
  }
});

Deno.test("createIpHash() spreads 100k keys evenly, within 1.5% of 1/n", () => {
  for (const n of [2, 3, 7]) {
    const counts = new Map<string, number>();
    for (const name of assignments(create(), makeBackends(Array(n).fill(1)))) {
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    for (const [name, count] of counts) {
      assert.ok(Math.abs(count / KEYS - 1 / n) < 0.015, `${n}: ${name} ${count}`);
    }
  }
});

Deno.test("createIpHash() moves at most 1/n + 2% of keys when one of n backends leaves, and all back", () => {
  for (const n of [3, 5, 10, 50]) {
    const strategy = create();
    const all = makeBackends(Array(n).fill(1), "web-");
    const before = assignments(strategy, all);
    const leaving = all[Math.floor(n / 2)].name;
    const during = assignments(strategy, all.filter((b) => b.name !== leaving));
    let moved = 0;
    let movedOthers = 0;
    for (let i = 0; i < KEYS; i++) {
      if (before[i] === during[i]) continue;
      moved++;
      if (before[i] !== leaving) movedOthers++;
    }
    assert.ok(moved / KEYS <= 1 / n + 0.02, `n=${n}: ${moved} keys moved`);
    assert.ok(movedOthers / KEYS <= 0.02, `n=${n}: ${movedOthers} keys of staying backends moved`);
    assert.deepEqual(assignments(strategy, all), before, `n=${n}: keys return when the backend does`);
  }
});

Deno.test("createIpHash() replicas with the same backend names agree on every key, in any order", () => {
  const names = ["api-1", "api-2", "api-3", "api-4", "api-5", "api-6"];
  const first = names.map((name, id) => ({ id, name, weight: 1, inFlight: 0 }));
  // Another proxy lists the backends in another order, so ids and positions differ.
  const second = names.toReversed().map((name, id) => ({ id, name, weight: 3, inFlight: id }));
  assert.deepEqual(assignments(create(1), first), assignments(create(2), second));
});

Deno.test("createIpHash() reuses a cached table when a candidate set recurs", () => {
  const strategy = create();
  const all = makeBackends([1, 1, 1, 1]);
  const without = all.slice(1);
  const expected = assignments(strategy, all);
  // Flapping between two sets: a new array object each time, same names.
  for (let round = 0; round < 5; round++) {
    assert.deepEqual(assignments(strategy, [...all]), expected);
    assignments(strategy, [...without]);
  }
});
