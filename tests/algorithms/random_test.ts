import assert from "node:assert/strict";
import { createRandom } from "../../algorithms/random.ts";
import { countPicks, makeBackends, shares } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";

Deno.test("createRandom() is uniform over equal weights within 1% over 100k picks", () => {
  const random = createRandom({ random: mulberry32(11), now: () => 0 });
  for (const [name, share] of shares(countPicks(random, makeBackends([2, 2, 2, 2, 2]), 100_000))) {
    assert.ok(Math.abs(share - 0.2) < 0.01, `${name}: ${share}`);
  }
});

Deno.test("createRandom() is proportional to unequal weights within 1% over 100k picks", () => {
  const random = createRandom({ random: mulberry32(12), now: () => 0 });
  const weights = [5, 1, 1, 0.25];
  const total = weights.reduce((s, w) => s + w, 0);
  const got = shares(countPicks(random, makeBackends(weights), 100_000));
  weights.forEach((w, i) => {
    const share = got.get(String.fromCharCode(97 + i))!;
    assert.ok(Math.abs(share - w / total) < 0.01, `${i}: ${share} vs ${w / total}`);
  });
});

Deno.test("createRandom() reaches the last backend when the draw is at the very top", () => {
  const random = createRandom({ random: () => 0.9999999999999999, now: () => 0 });
  const list = makeBackends([1, 2, 3]);
  assert.equal(random.pick(list, { hashKey: "" })?.name, "c");
  assert.equal(random.pick(makeBackends([1, 1]), { hashKey: "" })?.name, "b");
});
