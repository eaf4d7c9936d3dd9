import assert from "node:assert/strict";
import { createLeastConnections } from "../../algorithms/least_connections.ts";
import { countPicks, makeBackends, pickOne, shares } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";

Deno.test("createLeastConnections() always chooses a backend with the fewest in flight per weight", () => {
  const random = mulberry32(21);
  const lc = createLeastConnections({ random: mulberry32(22), now: () => 0 });
  const list = makeBackends([1, 1, 1, 1, 1, 1]);
  for (let i = 0; i < 10_000; i++) {
    for (const b of list) {
      b.inFlight = Math.floor(random() * 6);
      b.weight = 1 + Math.floor(random() * 3);
    }
    const chosen = lc.pick(list, { hashKey: "" })!;
    const least = Math.min(...list.map((b) => b.inFlight / b.weight));
    assert.equal(chosen.inFlight / chosen.weight, least);
  }
});

Deno.test("createLeastConnections() breaks ties at random, not to the first backend", () => {
  const lc = createLeastConnections({ random: mulberry32(23), now: () => 0 });
  const list = makeBackends([1, 1, 1, 1]);
  list[0].inFlight = 4;
  const got = shares(countPicks(lc, list, 30_000));
  assert.equal(got.get("a"), 0);
  for (const name of ["b", "c", "d"]) {
    assert.ok(Math.abs(got.get(name)! - 1 / 3) < 0.01, `${name}: ${got.get(name)}`);
  }
});

Deno.test("createLeastConnections() shares an idle pool in proportion to weight", () => {
  const lc = createLeastConnections({ random: mulberry32(24), now: () => 0 });
  const got = shares(countPicks(lc, makeBackends([2, 1, 1]), 40_000));
  assert.ok(Math.abs(got.get("a")! - 0.5) < 0.01 && Math.abs(got.get("c")! - 0.25) < 0.01, `${[...got]}`);
});

Deno.test("createLeastConnections() piles requests up in proportion to weight", () => {
  const lc = createLeastConnections({ random: mulberry32(25), now: () => 0 });
  const list = makeBackends([3, 1, 1]);
  for (let i = 1; i <= 500; i++) {
    pickOne(lc, list).inFlight++;
    const loads = list.map((x) => x.inFlight / x.weight);
    // Each request goes to the least loaded, so loads never differ by more than one request's worth.
    assert.ok(Math.max(...loads) - Math.min(...loads) <= 1, `after ${i}: ${loads}`);
  }
  assert.deepEqual(list.map((b) => b.inFlight), [300, 100, 100]);
});
