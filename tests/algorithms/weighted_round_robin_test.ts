import assert from "node:assert/strict";
import { createWeightedRoundRobin } from "../../algorithms/weighted_round_robin.ts";
import { countPicks, makeBackends, sequence } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";

const options = { random: mulberry32(1), now: () => 0 };

/** Length of the longest run of one letter in `text`. */
function longestRun(text: string, letter: string): number {
  let best = 0;
  let run = 0;
  for (const ch of text) {
    run = ch === letter ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

/** How often `letter` occurs in `text`. */
function occurrences(text: string, letter: string): number {
  return text.split(letter).length - 1;
}

Deno.test("createWeightedRoundRobin() interleaves weights 5,1,1 as a a b a c a a", () => {
  const wrr = createWeightedRoundRobin(options);
  const text = sequence(wrr, makeBackends([5, 1, 1]), 700);
  assert.equal(text.slice(0, 14), "aabacaaaabacaa");
  for (let i = 0; i < text.length; i += 7) {
    const window = text.slice(i, i + 7);
    assert.deepEqual([occurrences(window, "a"), occurrences(window, "b"), occurrences(window, "c")], [
      5,
      1,
      1,
    ]);
  }
  assert.ok(longestRun(text, "a") < 5, `longest run of a: ${longestRun(text, "a")}`);
});

Deno.test("createWeightedRoundRobin() gives exact shares over 100k picks, fractional weights too", () => {
  const wrr = createWeightedRoundRobin(options);
  const weights = [3, 2.5, 1, 0.5];
  const counts = countPicks(wrr, makeBackends(weights), 100_000);
  const total = weights.reduce((s, w) => s + w, 0);
  weights.forEach((w, i) => {
    const got = counts.get(String.fromCharCode(97 + i))!;
    assert.ok(Math.abs(got - (100_000 * w) / total) <= 1, `${i}: ${got}`);
  });
});

Deno.test("createWeightedRoundRobin() lets a joining backend take its share without a burst", () => {
  const wrr = createWeightedRoundRobin(options);
  const [a, b, c] = makeBackends([2, 1, 1]);
  sequence(wrr, [a, b], 101);
  const after = sequence(wrr, [a, b, c], 400);
  assert.equal(longestRun(after, "c"), 1);
  for (let i = 0; i + 4 <= after.length; i += 4) assert.ok(occurrences(after.slice(i, i + 8), "c") <= 3);
  assert.ok(Math.abs(occurrences(after, "c") - 100) <= 1, `c got ${occurrences(after, "c")}`);
});

Deno.test("createWeightedRoundRobin() does not favour a backend returning to health", () => {
  const wrr = createWeightedRoundRobin(options);
  const [a, b, c] = makeBackends([1, 1, 1]);
  const all = [a, b, c];
  sequence(wrr, all, 10);
  sequence(wrr, [a, b], 57);
  const after = sequence(wrr, all, 30);
  assert.equal(longestRun(after, "c"), 1);
  for (const letter of "abc") assert.equal(occurrences(after, letter), 10);
});

Deno.test("createWeightedRoundRobin() follows a weight change at once and smoothly", () => {
  const wrr = createWeightedRoundRobin(options);
  const list = makeBackends([1, 1, 1]);
  sequence(wrr, list, 100);
  list[0].weight = 3; // same array, as when a reload or a slow-start ramp changes a weight
  const after = sequence(wrr, list, 500);
  assert.ok(Math.abs(occurrences(after, "a") - 300) <= 2, `a got ${occurrences(after, "a")}`);
  assert.ok(longestRun(after, "a") <= 3);
  assert.ok(
    Math.abs(occurrences(after.slice(0, 10), "a") - 6) <= 1,
    "the change applies from the first pick",
  );
});

Deno.test("createWeightedRoundRobin() follows a slow-start ramp in proportion", () => {
  const wrr = createWeightedRoundRobin(options);
  const list = makeBackends([1, 1, 0.1]);
  let expected = 0;
  let got = 0;
  for (let step = 0; step < 10; step++) {
    list[2].weight = 0.1 + step * 0.1; // ramping from 10 % to 100 % of weight 1
    const text = sequence(wrr, list, 1000);
    expected += (1000 * list[2].weight) / (2 + list[2].weight);
    got += occurrences(text, "c");
    assert.ok(longestRun(text, "c") === 1);
  }
  assert.ok(Math.abs(got - expected) <= 10, `ramped backend got ${got}, expected ${expected.toFixed(0)}`);
});

Deno.test("createWeightedRoundRobin() forgets a removed backend", () => {
  const wrr = createWeightedRoundRobin(options);
  const [a, b] = makeBackends([1, 1]);
  sequence(wrr, [a, b], 3);
  wrr.forget?.("b");
  assert.equal(sequence(wrr, [a], 2), "aa");
  assert.equal(occurrences(sequence(wrr, [a, b], 10), "b"), 5);
});
