import assert from "node:assert/strict";
import { createIpHash, type IpHashStrategy } from "../../algorithms/ip_hash.ts";
import type { Candidate } from "../../algorithms/types.ts";
import { makeBackends } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";

const KEYS = 100_000;
/** Client keys as the shell produces them: canonical IPv4 and IPv6 addresses. */
const key = (
  i: number,
) => (i % 4 === 3 ? `2001:db8::${i.toString(16)}` : `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);

function create(seed = 61): IpHashStrategy {
  return createIpHash({ random: mulberry32(seed), now: () => 0 });
}

/** Backend name chosen for each of `keys` keys; `down` names the members that are not eligible. */
function assignments(
  strategy: IpHashStrategy,
  list: readonly Candidate[],
  down: ReadonlySet<string> = new Set(),
  keys = KEYS,
): string[] {
  const eligible = down.size ? (c: Candidate) => !down.has(c.name) : undefined;
  return Array.from({ length: keys }, (_, i) => strategy.pick(list, { hashKey: key(i), eligible })!.name);
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

Deno.test("createIpHash() moves at most 1/n + 2% of keys when one of n members leaves, and all back", () => {
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

Deno.test("createIpHash() reuses a cached table when a membership recurs", () => {
  const strategy = create();
  const all = makeBackends([1, 1, 1, 1]);
  const without = all.slice(1);
  const expected = assignments(strategy, all);
  // A member leaving and rejoining: a new array object each time, same names.
  for (let round = 0; round < 5; round++) {
    assert.deepEqual(assignments(strategy, [...all]), expected);
    assignments(strategy, [...without]);
  }
  assert.equal(strategy.tableBuilds, 2);
});

Deno.test("createIpHash() declares that it wants the membership, not only the eligible backends", () => {
  assert.equal(create().wantsMembership, true);
});

Deno.test("createIpHash() with one member down moves only that member's keys, spread over the others", () => {
  for (const n of [3, 5, 10]) {
    const strategy = create();
    const members = makeBackends(Array(n).fill(1), "web-");
    const before = assignments(strategy, members);
    const down = members[1].name;
    const during = assignments(strategy, members, new Set([down]));
    const received = new Map<string, number>();
    let own = 0;
    for (let i = 0; i < KEYS; i++) {
      assert.notEqual(during[i], down, `n=${n}: key ${i} sent to the member that is down`);
      if (before[i] !== down) {
        assert.equal(during[i], before[i], `n=${n}: key ${i} of ${before[i]} moved`);
        continue;
      }
      own++;
      received.set(during[i], (received.get(during[i]) ?? 0) + 1);
    }
    // The down member's keys are re-hashed to other slots: every other member gets its share of
    // them, within 15% of an even split (about 1/(n-1) each).
    assert.equal(received.size, n - 1, `n=${n}: ${[...received.keys()]}`);
    for (const [name, count] of received) {
      assert.ok(
        Math.abs(count / own - 1 / (n - 1)) < 0.15 / (n - 1),
        `n=${n}: ${name} got ${count} of ${own}`,
      );
    }
    assert.deepEqual(assignments(strategy, members), before, `n=${n}: keys return when it recovers`);
    assert.equal(strategy.tableBuilds, 1, `n=${n}: health changes never rebuild the table`);
  }
});

Deno.test("createIpHash() replicas with one membership and different health views agree on 1,000 keys", () => {
  const names = ["app.1.x7", "app.2.k3", "app.3.p9", "app.4.q1", "app.5.m2"];
  const keys = 1_000;
  // Two independent replicas: their own instances, members listed in their own order with their
  // own ids, and a moment where one has seen app.2 and app.4 fail its checks and the other has not.
  const first = create(1);
  const second = create(2);
  const mine = names.map((name, id) => ({ id, name, weight: 1, inFlight: 0 }));
  const theirs = names.toReversed().map((name, id) => ({ id: 10 + id, name, weight: 2, inFlight: id }));
  const downThere = new Set(["app.2.k3", "app.4.q1"]);
  const here = assignments(first, mine, new Set(), keys);
  const there = assignments(second, theirs, downThere, keys);
  let agreed = 0;
  let comparable = 0;
  for (let i = 0; i < keys; i++) {
    if (downThere.has(here[i])) continue; // its backend is down on one replica: it must move there
    comparable++;
    if (here[i] === there[i]) agreed++;
  }
  assert.ok(comparable > 500, `${comparable} keys on backends both see healthy`);
  assert.equal(agreed, comparable, `${agreed} of ${comparable} keys agree`);
  // Once the second replica's view catches up, all 1,000 agree.
  assert.deepEqual(assignments(second, theirs, new Set(), keys), here);
  assert.equal(first.tableBuilds + second.tableBuilds, 2);
});

Deno.test("createIpHash() builds a new table only when the membership changes", () => {
  const strategy = create();
  const members = makeBackends([1, 1, 1, 1, 1, 1]);
  const random = mulberry32(9);
  // 2,000 picks while health flaps every 10 picks: one table.
  for (let i = 0; i < 2_000; i++) {
    const down = i % 10 === 0 ? new Set(members.filter(() => random() < 0.3).map((b) => b.name)) : undefined;
    const eligible = down && down.size < members.length ? (c: Candidate) => !down.has(c.name) : undefined;
    strategy.pick(members, { hashKey: key(i), eligible });
  }
  assert.equal(strategy.tableBuilds, 1);
  // A member joins: one more; the same membership in a new array: none.
  const joined = [...members, { id: 6, name: "g", weight: 1, inFlight: 0 }];
  strategy.pick(joined, { hashKey: key(0) });
  strategy.pick([...joined], { hashKey: key(1) });
  assert.equal(strategy.tableBuilds, 2);
});

Deno.test("createIpHash() finds the one eligible member when nearly all are down", () => {
  const strategy = create();
  const members = makeBackends(Array(40).fill(1), "web-");
  const only = members[17];
  const chosen = assignments(
    strategy,
    members,
    new Set(members.filter((b) => b !== only).map((b) => b.name)),
  );
  assert.deepEqual(new Set(chosen), new Set([only.name]));
});

Deno.test("createIpHash() returns undefined, not a loop, when no member is eligible", () => {
  const strategy = create();
  const members = makeBackends([1, 1, 1]);
  assert.equal(strategy.pick(members, { hashKey: "10.0.0.1", eligible: () => false }), undefined);
  assert.equal(strategy.pick(members.slice(0, 1), { hashKey: "10.0.0.1", eligible: () => false }), undefined);
});
