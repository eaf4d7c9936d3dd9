import { deepEqual, notDeepEqual, ok } from "node:assert/strict";
import { randomSeed, seededRandom } from "../../../demo/shared/random.ts";

Deno.test("seededRandom() repeats its sequence for the same seed and differs for another", () => {
  const take = (seed: number) => Array.from({ length: 50 }, seededRandom(seed));
  deepEqual(take(42), take(42));
  notDeepEqual(take(42), take(43));
});

Deno.test("seededRandom() is uniform in [0, 1)", () => {
  const next = seededRandom(1);
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const v = next();
    ok(v >= 0 && v < 1);
    buckets[Math.floor(v * 10)]++;
  }
  // Each bucket expects 10 000 with sd ~95; 500 is more than 5 sd.
  for (const count of buckets) ok(Math.abs(count - 10_000) < 500, `bucket count ${count}`);
});

Deno.test("randomSeed() returns unsigned 32-bit integers that vary", () => {
  const seeds = new Set(Array.from({ length: 20 }, randomSeed));
  ok(seeds.size > 1);
  for (const seed of seeds) ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
});
