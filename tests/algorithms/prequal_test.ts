import assert from "node:assert/strict";
import {
  createLatencyByRif,
  createPrequal,
  createRifHistory,
  DEFAULT_Q_RIF,
  LATENCY_MEMORY_MS,
  RIF_HISTORY,
} from "../../algorithms/prequal.ts";
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
  const s = prequal(1, 0.84); // the paper's q_rif
  assert.equal(DEFAULT_Q_RIF, 1);
  for (let i = 0; i < 50; i++) assert.equal(pickOne(s, list).name, "c");
});

Deno.test("prequal: when every answer is hot against the history, the lowest RIF wins", () => {
  const s = prequal(1, 0.84);
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
  const counts = countPicks(prequal(3, 0.84), same, 9_000);
  // d is hot (RIFs 2, 2, 2, 5: the 0.84 quantile is 2 + 0.52 × 3 = 3.56 < 5) and never chosen.
  assert.equal(counts.get("d"), 0);
  for (const name of ["a", "b", "c"]) {
    const share = counts.get(name)! / 9_000;
    assert.ok(Math.abs(share - 1 / 3) < 0.03, `${name}: ${share}`);
  }
  // Equal latency: the lower RIF wins.
  assert.equal(pickOne(prequal(), probed([[3, 10], [1, 10], [2, 10]])).name, "b");
});

Deno.test("prequal: by default (q_rif 1) nothing is hot: the fastest wins however many it has in flight", () => {
  assert.equal(pickOne(prequal(), probed([[50, 10], [0, 30]])).name, "a");
  // Equal latencies: the fewer in flight.
  assert.equal(pickOne(prequal(), probed([[4, 10], [1, 10]])).name, "b");
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
  // History {1, 9}, median 5: b (9) is hot, a wins.
  assert.equal(pickOne(s, list).name, "a");
  // The same answers again: were b's recorded twice ({1, 9, 9}, median 9), b would be cold and win.
  assert.equal(pickOne(s, list).name, "a");
  // A new answer object is a new value: {1, 9, 9} has median 9, b (9) is cold again at 5 ms.
  list[1].probe = { rif: 9, latencyMs: 5 };
  assert.equal(pickOne(s, list).name, "b");
});

Deno.test("prequal: a backend's RIF is its answer's other clients plus this proxy's own in flight now", () => {
  const s = prequal(1, 1); // q 1: nothing is hot, so equal latencies leave the choice to the RIF
  const list = probed([[2, 10], [1, 10]]);
  assert.equal(pickOne(s, list).name, "b"); // 2 against 1
  // This proxy sent b three requests since its answer: 1 + 3 = 4 in flight, against a's 2.
  list[1].inFlight = 3;
  assert.equal(pickOne(s, list).name, "a");
  // a answers 5 while this proxy has all 5 of them in flight: no other client. When they finish,
  // a has none in flight, though its answer (the same object) still says 5.
  list[0].probe = { rif: 5, latencyMs: 10 };
  list[0].inFlight = 5;
  assert.equal(pickOne(s, list).name, "b"); // 5 against 4
  list[0].inFlight = 0;
  assert.equal(pickOne(s, list).name, "a"); // 0 against 4
  // b answers 6 with 3 of this proxy's in flight: 3 are another client's, they stay counted.
  list[1].probe = { rif: 6, latencyMs: 10 };
  list[1].inFlight = 3;
  assert.equal(pickOne(s, list).name, "a");
  list[1].inFlight = 0;
  list[0].inFlight = 4;
  assert.equal(pickOne(s, list).name, "b"); // 3 others + 0 against 0 + 4
});

Deno.test("prequal: the latency is read at the RIF the backend has now, from its answers of the last second", () => {
  let t = 0;
  const s = createPrequal({ random: mulberry32(1), now: () => t, tuning: { qRif: 1 } });
  const list = probed([[4, 60], [0, 30]]);
  list[0].inFlight = 4; // a answered 60 ms at 4 in flight (this proxy's four)
  assert.equal(pickOne(s, list).name, "b");
  list[0].probe = { rif: 0, latencyMs: 20 }; // then 20 ms at none
  list[0].inFlight = 0;
  assert.equal(pickOne(s, list).name, "a"); // 20 ms at 0 against 30
  list[0].inFlight = 4;
  assert.equal(pickOne(s, list).name, "b"); // at 4 in flight a reported 60 ms
  list[0].inFlight = 3;
  assert.equal(pickOne(s, list).name, "b"); // 3: as near 4 as 2 is, and nothing at 2; the higher counts
  // A second on, without new answers, what a reported at 4 is too old to read: its current answer
  // (20 ms) is all that describes it.
  t = LATENCY_MEMORY_MS + 1;
  assert.equal(pickOne(s, list).name, "a");
});

Deno.test("prequal: RIFs are per unit of weight, for the hot threshold and the all-hot order", () => {
  const list = probed([[8, 50], [3, 10]]);
  list[0].weight = 4; // 2 per unit of weight, against b's 3
  // q 0: only the lowest RIF per weight seen (2) is cold: a, though slower.
  assert.equal(pickOne(prequal(1, 0), list).name, "a");
  // Equal latencies: the lower RIF per weight wins.
  list[0].probe = { rif: 8, latencyMs: 10 };
  assert.equal(pickOne(prequal(1, 1), list).name, "a");
});

Deno.test("createLatencyByRif() answers from the nearest recent RIF, the higher one on a tie", () => {
  const t = createLatencyByRif();
  assert.equal(t.at(0, 0), undefined);
  t.add(2, 20, 10);
  t.add(6, 60, 20);
  assert.equal(t.at(2, 0), 20);
  assert.equal(t.at(3, 0), 20);
  assert.equal(t.at(4, 0), 60); // as near 2 as 6: the higher
  assert.equal(t.at(100, 0), 60); // above the last bucket
  assert.equal(t.at(2, 15), 60); // the answer at 2 is older than 15
  assert.equal(t.at(2, 21), undefined);
  t.add(2.4, 25, 30); // rounded to 2
  assert.equal(t.at(1, 0), 25);
});
