import assert from "node:assert/strict";
import { createPrequal, createRifHistory, DEFAULT_Q_RIF, RIF_HISTORY } from "../../algorithms/prequal.ts";
import type { ProbeSample, StrategyOptions } from "../../algorithms/types.ts";
import { countPicks, makeBackends, pickOne, type TestBackend } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";

/** A backend whose probe answer a test sets, as the shell's probe pool does. */
type Probed = TestBackend & { probe?: ProbeSample };

function probed(answers: readonly (readonly [number, number] | undefined)[]): Probed[] {
  return makeBackends(answers.map(() => 1)).map((b, i) => {
    const a = answers[i];
    return a === undefined ? b : { ...b, probe: { rif: a[0], latencyMs: a[1] } };
  });
}

function prequal(seed = 1, qRif?: number) {
  const opts: StrategyOptions = { random: mulberry32(seed), now: () => 0, tuning: { qRif } };
  return createPrequal(opts);
}

Deno.test("createRifHistory() keeps the last values sorted and interpolates its quantiles", () => {
  const h = createRifHistory(4);
  assert.ok(Number.isNaN(h.quantile(0.5)));
  h.add(7);
  assert.equal(h.quantile(0), 7);
  assert.equal(h.quantile(1), 7);
  for (const v of [1, 3, 2]) h.add(v);
  assert.equal(h.quantile(0), 1);
  assert.equal(h.quantile(1), 7);
  assert.equal(h.quantile(0.5), 2.5);
  h.add(9); // 7 leaves: 1 2 3 9
  assert.equal(h.quantile(1), 9);
  assert.equal(h.quantile(0.5), 2.5);
  h.add(1); // 1 (the oldest) leaves, 1 joins: 1 2 3 9
  assert.equal(h.quantile(0), 1);
  h.add(5);
  h.add(5); // 3 and 2 leave, in arrival order: 9 1 5 5
  assert.equal(h.quantile(0), 1);
  assert.equal(h.quantile(2 / 3), 5);
  assert.ok(Math.abs(h.quantile(0.84) - (5 + (9 - 5) * (0.84 * 3 - 2))) < 1e-12);
});

Deno.test("prequal: among cold answers the lowest latency wins; a hot one is passed over however fast", () => {
  // RIFs 2, 3, 3, 9: the 0.84 quantile is 3 + 0.52 × 6 = 6.1, so only a (9) is hot.
  const list = probed([[9, 1], [3, 30], [3, 20], [2, 40]]);
  const s = prequal();
  assert.equal(DEFAULT_Q_RIF, 0.84);
  for (let i = 0; i < 50; i++) assert.equal(pickOne(s, list).name, "c");
});

Deno.test("prequal: when every answer is hot against the history, the lowest RIF wins", () => {
  const s = prequal();
  // History: many answers at RIF 1 (a calm pool).
  const calm = probed([[1, 10], [1, 10], [1, 10]]);
  for (let i = 0; i < RIF_HISTORY; i++) {
    for (const b of calm) b.probe = { rif: 1, latencyMs: 10 };
    pickOne(s, calm);
  }
  // Now every backend answers busy: all hot; b has the fewest in flight though a is faster.
  const busy = calm;
  busy[0].probe = { rif: 8, latencyMs: 5 };
  busy[1].probe = { rif: 6, latencyMs: 50 };
  busy[2].probe = { rif: 7, latencyMs: 9 };
  assert.equal(pickOne(s, busy).name, "b");
});

Deno.test("prequal: ties are broken at random, evenly, by latency first and RIF second", () => {
  const same = probed([[2, 10], [2, 10], [2, 10], [5, 10]]);
  const counts = countPicks(prequal(3), same, 9_000);
  // d is hot (RIFs 2, 2, 2, 5: the 0.84 quantile is 2 + 0.52 × 3 = 3.56 < 5) and never chosen.
  assert.equal(counts.get("d"), 0);
  for (const name of ["a", "b", "c"]) {
    const share = counts.get(name)! / 9_000;
    assert.ok(Math.abs(share - 1 / 3) < 0.03, `${name}: ${share}`);
  }
  // Equal latency: the lower RIF wins.
  assert.equal(pickOne(prequal(), probed([[3, 10], [1, 10], [2, 10]])).name, "b");
});

Deno.test("prequal: unprobed candidates are passed over while some are probed", () => {
  const list = probed([undefined, [4, 80], undefined]);
  for (let i = 0; i < 20; i++) assert.equal(pickOne(prequal(i), list).name, "b");
});

Deno.test("prequal: without any answer it falls back to two random choices by requests in flight", () => {
  const list = probed([undefined, undefined, undefined]);
  list[0].inFlight = 9;
  const counts = countPicks(prequal(5), list, 3_000);
  assert.equal(counts.get("a"), 0, "the busiest of three never wins a two-choice draw");
  assert.ok(Math.abs(counts.get("b")! - counts.get("c")!) < 300);
});

Deno.test("prequal: q_rif 1 never calls anything hot (pure latency); q_rif 0 leaves only the least busy cold", () => {
  const list = probed([[9, 1], [3, 30], [2, 40]]);
  assert.equal(pickOne(prequal(1, 1), list).name, "a");
  // q 0: the threshold is the history's minimum (2): only c is cold.
  assert.equal(pickOne(prequal(1, 0), list).name, "c");
});

Deno.test("prequal: an answer is recorded in the history once, not at every pick that sees it", () => {
  const s = prequal(1, 0.5);
  const list = probed([[1, 10], [9, 5]]);
  // First pick: history {1, 9}, median 5: b (9) is hot, a wins.
  assert.equal(pickOne(s, list).name, "a");
  // b's RIF drops in place (the shell bumps or keeps the same object): no new value is recorded,
  // so the history stays {1, 9} and b, now 4 <= 5, is cold and faster.
  (list[1].probe as { rif: number }).rif = 4;
  assert.equal(pickOne(s, list).name, "b");
  // A new answer object is a new value: {1, 9, 9} has median 9, b (9) is cold again at 5 ms.
  list[1].probe = { rif: 9, latencyMs: 5 };
  assert.equal(pickOne(s, list).name, "b");
});
