/**
 * The contract every registered strategy must keep, run against each entry of STRATEGIES.
 */

import assert from "node:assert/strict";
import { resolveStrategyName, STRATEGIES, STRATEGY_ALIASES, STRATEGY_NAMES } from "../../algorithms/mod.ts";
import type { ResourceSample, StrategyOptions } from "../../algorithms/types.ts";
import { countPicks, makeBackends, shares, type TestBackend } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";

/** Options with a seeded random, a controllable clock and (for least_resources) stats. */
function options(seed: number) {
  const clock = { now: 0 };
  const samples = new Map<string, ResourceSample>();
  const opts: StrategyOptions = { random: mulberry32(seed), now: () => clock.now, stats: samples };
  return { clock, samples, opts };
}

for (const [name, factory] of Object.entries(STRATEGIES)) {
  Deno.test(`${name}: factory builds a strategy that reports its registry name`, () => {
    assert.equal(factory(options(1).opts).name, name);
  });

  Deno.test(`${name}: pick() returns undefined for an empty list`, () => {
    const strategy = factory(options(2).opts);
    assert.equal(strategy.pick([], { hashKey: "203.0.113.1" }), undefined);
  });

  Deno.test(`${name}: pick() always returns the only backend`, () => {
    const strategy = factory(options(3).opts);
    const [only] = makeBackends([2]);
    for (let i = 0; i < 200; i++) {
      only.inFlight = i % 7;
      assert.equal(strategy.pick([only], { hashKey: `key-${i}` }), only);
    }
  });

  Deno.test(`${name}: pick() chooses only from the candidates it is given`, () => {
    const random = mulberry32(4);
    const strategy = factory(options(5).opts);
    const pool = makeBackends(Array.from({ length: 20 }, (_, i) => 1 + (i % 3)));
    // Health changes every 50 picks; subsets recur, as when backends flap.
    const subsets = Array.from({ length: 20 }, () => pool.filter(() => random() < 0.5));
    let list = subsets[0];
    for (let i = 0; i < 3000; i++) {
      if (i % 50 === 0) list = subsets[Math.floor(random() * subsets.length)];
      const chosen = strategy.pick(list, { hashKey: `10.0.${i & 255}.${i >> 8}` });
      if (list.length === 0) assert.equal(chosen, undefined);
      else assert.ok(chosen !== undefined && list.includes(chosen as TestBackend), `chose ${chosen?.name}`);
    }
  });

  Deno.test(`${name}: pick() keeps working under churn of membership, weights, load and feedback`, () => {
    const { clock, samples, opts } = options(6);
    const random = mulberry32(7);
    const strategy = factory(opts);
    const pool = makeBackends(Array.from({ length: 12 }, () => 1), "churn");
    let list: TestBackend[] = pool.slice(0, 6);
    let nextId = pool.length;
    for (let i = 0; i < 2000; i++) {
      clock.now += random() * 50;
      const r = random();
      if (r < 0.05) list = pool.filter(() => random() < 0.6); // health changes
      else if (r < 0.07) {
        // A backend joins for good, another leaves for good.
        const gone = pool.splice(Math.floor(random() * pool.length), 1)[0];
        strategy.forget?.(gone.name);
        pool.push({ id: nextId, name: `churn${nextId}`, weight: 1, inFlight: 0 });
        nextId++;
        list = pool.filter(() => random() < 0.6);
      }
      const target = pool[Math.floor(random() * pool.length)];
      target.weight = random() < 0.2 ? 0.01 + random() : 1 + Math.floor(random() * 5); // slow start, reload
      target.inFlight = Math.floor(random() * 4);
      samples.set(target.name, { cpu: random(), memory: random(), at: clock.now - random() * 20_000 });
      const chosen = strategy.pick(list, { hashKey: `192.0.2.${i & 255}` });
      if (list.length === 0) {
        assert.equal(chosen, undefined);
        continue;
      }
      assert.ok(chosen !== undefined && list.includes(chosen as TestBackend));
      strategy.observe?.(chosen, { latencyMs: random() * 300, ok: random() < 0.9 });
    }
  });

  Deno.test(`${name}: pick() with the membership, when it wants it, returns only eligible members`, () => {
    // What the shell does (lib/pool/balancer.ts): the membership plus a predicate for strategies
    // that declare wantsMembership, the eligible list for every other one.
    const random = mulberry32(9);
    const strategy = factory(options(10).opts);
    const members = makeBackends(Array.from({ length: 12 }, () => 1), "m");
    for (let i = 0; i < 3000; i++) {
      const up = new Set(members.filter(() => random() < 0.5));
      if (up.size === 0) continue; // the shell never asks when nothing is eligible
      const ctx = { hashKey: `10.1.${i & 255}.${i >> 8}` };
      const chosen = strategy.wantsMembership
        ? strategy.pick(members, { ...ctx, eligible: (c) => up.has(c as TestBackend) })
        : strategy.pick(members.filter((b) => up.has(b)), ctx);
      assert.ok(chosen !== undefined && up.has(chosen as TestBackend), `chose ${chosen?.name}`);
    }
  });

  Deno.test(`${name}: pick() spreads idle traffic evenly over equal backends`, () => {
    const strategy = factory(options(8).opts);
    const list = makeBackends([1, 1, 1, 1]);
    for (const [backend, share] of shares(countPicks(strategy, list, 40_000))) {
      assert.ok(Math.abs(share - 0.25) < 0.02, `${backend} got ${share}`);
    }
  });
}

Deno.test("resolveStrategyName() accepts every canonical name and every Go alias", () => {
  for (const name of STRATEGY_NAMES) assert.equal(resolveStrategyName(name), name);
  assert.deepEqual(Object.keys(STRATEGY_ALIASES).sort(), [
    "IpHashing",
    "LeastConnections",
    "LeastUsedResources",
    "Random",
    "RoundRobin",
    "WeightedRoundRobin",
  ]);
  for (const [alias, name] of Object.entries(STRATEGY_ALIASES)) {
    assert.equal(resolveStrategyName(alias), name);
  }
  assert.equal(resolveStrategyName("LeastTime"), undefined);
  assert.equal(resolveStrategyName("constructor"), undefined);
});
