import assert from "node:assert/strict";
import { createRoundRobin } from "../../algorithms/round_robin.ts";
import { makeBackends, sequence } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";

const options = { random: mulberry32(1), now: () => 0 };

Deno.test("createRoundRobin() cycles through backends in id order", () => {
  assert.equal(sequence(createRoundRobin(options), makeBackends([1, 1, 1]), 9), "abcabcabc");
});

Deno.test("createRoundRobin() ignores weights", () => {
  assert.equal(sequence(createRoundRobin(options), makeBackends([5, 1, 1]), 6), "abcabc");
});

Deno.test("createRoundRobin() neither skips nor repeats when the last chosen backend leaves", () => {
  const rr = createRoundRobin(options);
  const [a, b, c, d] = makeBackends([1, 1, 1, 1]);
  assert.equal(sequence(rr, [a, b, c, d], 2), "ab");
  // b fails its health check right after serving: the turn passes to c, not d.
  assert.equal(sequence(rr, [a, c, d], 4), "cdac");
});

Deno.test("createRoundRobin() serves a returning backend at its turn, without repeating anyone", () => {
  const rr = createRoundRobin(options);
  const [a, b, c, d] = makeBackends([1, 1, 1, 1]);
  assert.equal(sequence(rr, [a, c, d], 1), "a");
  // b comes back after a was served: it is next, and c keeps its place after it.
  assert.equal(sequence(rr, [a, b, c, d], 5), "bcdab");
});

Deno.test("createRoundRobin() continues after the last chosen when a backend joins at the end", () => {
  const rr = createRoundRobin(options);
  const [a, b, c, d] = makeBackends([1, 1, 1, 1]);
  assert.equal(sequence(rr, [a, b, c], 3), "abc");
  assert.equal(sequence(rr, [a, b, c, d], 5), "dabcd");
});

Deno.test("createRoundRobin() gives every member one turn per cycle under random health changes", () => {
  const random = mulberry32(9);
  const rr = createRoundRobin(options);
  const pool = makeBackends(Array.from({ length: 8 }, () => 1), "rr");
  let list = pool;
  let served = new Set<string>();
  let last = -1;
  for (let i = 0; i < 20_000; i++) {
    if (random() < 0.02) {
      list = pool.filter(() => random() < 0.7);
      served = new Set(); // a new cycle starts with the new membership
    }
    const chosen = rr.pick(list, { hashKey: "" });
    if (chosen === undefined) continue;
    // Never twice in a row while others are eligible, and no repeat before everyone had a turn.
    if (list.length > 1) assert.notEqual(chosen.id, last);
    assert.ok(!served.has(chosen.name), `${chosen.name} served twice in one cycle`);
    served.add(chosen.name);
    if (served.size === list.length) served = new Set();
    last = chosen.id;
  }
});
