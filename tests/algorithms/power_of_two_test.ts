import assert from "node:assert/strict";
import { createPowerOfTwo } from "../../algorithms/power_of_two.ts";
import { createRandom } from "../../algorithms/random.ts";
import type { Strategy } from "../../algorithms/types.ts";
import { countPicks, makeBackends, pickOne, shares } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";

Deno.test("createPowerOfTwo() never chooses the busier of two backends", () => {
  const random = mulberry32(31);
  const p2c = createPowerOfTwo({ random: mulberry32(32), now: () => 0 });
  const list = makeBackends([1, 1]);
  for (let i = 0; i < 10_000; i++) {
    list[0].inFlight = Math.floor(random() * 5);
    list[1].inFlight = Math.floor(random() * 5);
    const chosen = p2c.pick(list, { hashKey: "" })!;
    assert.ok(chosen.inFlight <= Math.min(list[0].inFlight, list[1].inFlight));
  }
});

Deno.test("createPowerOfTwo() never chooses the busiest backend of a larger pool", () => {
  const random = mulberry32(33);
  const p2c = createPowerOfTwo({ random: mulberry32(34), now: () => 0 });
  const list = makeBackends([1, 2, 1, 3, 1, 1, 2, 1]);
  for (let i = 0; i < 10_000; i++) {
    for (const b of list) b.inFlight = Math.floor(random() * 10);
    const costs = list.map((b) => (b.inFlight + 1) / b.weight);
    const worst = Math.max(...costs);
    const chosen = p2c.pick(list, { hashKey: "" })!;
    // The dearest can only win against an equally dear draw.
    if (costs.filter((c) => c === worst).length === 1) {
      assert.notEqual((chosen.inFlight + 1) / chosen.weight, worst);
    }
  }
});

Deno.test("createPowerOfTwo() favours heavier backends when idle, within 1% of 2/3, 1/6, 1/6", () => {
  const p2c = createPowerOfTwo({ random: mulberry32(35), now: () => 0 });
  const got = shares(countPicks(p2c, makeBackends([5, 1, 1]), 100_000));
  assert.ok(Math.abs(got.get("a")! - 2 / 3) < 0.01 && Math.abs(got.get("b")! - 1 / 6) < 0.01, `${[...got]}`);
});

/**
 * Mean spread (max - min) of in-flight counts over 10 backends while one request arrives per step and
 * each request in flight completes with probability 1/100 per step (about 100 in flight).
 */
function meanSpread(strategy: Strategy, seed: number): number {
  const random = mulberry32(seed);
  const list = makeBackends(Array.from({ length: 10 }, () => 1), "p");
  let sum = 0;
  for (let i = 0; i < 10_000; i++) {
    pickOne(strategy, list).inFlight++;
    for (const b of list) {
      let done = 0;
      for (let r = 0; r < b.inFlight; r++) if (random() < 0.01) done++;
      b.inFlight -= done;
    }
    const loads = list.map((b) => b.inFlight);
    if (i >= 1000) sum += Math.max(...loads) - Math.min(...loads);
  }
  return sum / 9000;
}

Deno.test("createPowerOfTwo() keeps in-flight requests far more level than random placement", () => {
  const p2c = meanSpread(createPowerOfTwo({ random: mulberry32(36), now: () => 0 }), 37);
  const random = meanSpread(createRandom({ random: mulberry32(36), now: () => 0 }), 37);
  assert.ok(p2c * 2 <= random, `two choices spread ${p2c}, random spread ${random}`);
});
