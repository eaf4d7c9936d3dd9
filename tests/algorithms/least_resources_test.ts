import assert from "node:assert/strict";
import { createLeastResources } from "../../algorithms/least_resources.ts";
import type { ResourceSample, StrategyTuning } from "../../algorithms/types.ts";
import { countPicks, makeBackends, pickOne, shares } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";
import { type Clock, shareBetween, simulate } from "../_util/simulate.ts";

/** A least-resources strategy over a sample table the test fills, on a simulated clock. */
function setup(seed: number, tuning?: StrategyTuning) {
  const clock: Clock = { now: 100_000 };
  const samples = new Map<string, ResourceSample>();
  const strategy = createLeastResources({
    random: mulberry32(seed),
    now: () => clock.now,
    stats: samples,
    tuning,
  });
  const sample = (name: string, cpu: number, memory: number, ageMs = 0) =>
    samples.set(name, { cpu, memory, at: clock.now - ageMs });
  return { clock, samples, strategy, sample };
}

Deno.test("createLeastResources() avoids a busy container", () => {
  const { strategy, sample } = setup(51);
  sample("a", 0.95, 0.8);
  sample("b", 0.1, 0.2);
  sample("c", 0.15, 0.3);
  const got = shares(countPicks(strategy, makeBackends([1, 1, 1]), 30_000));
  assert.equal(got.get("a"), 0);
  assert.ok(got.get("b")! > 0.6, `${[...got]}`);
});

Deno.test("createLeastResources() spreads requests that pile up before the next sample", () => {
  const { strategy, sample } = setup(52);
  sample("a", 0.7, 0.5);
  sample("b", 0.1, 0.1);
  sample("c", 0.2, 0.2);
  const list = makeBackends([1, 1, 1]);
  // 300 requests arrive before the stats collector reports again; none completes.
  for (let i = 0; i < 300; i++) pickOne(strategy, list).inFlight++;
  const [a, b, c] = list.map((x) => x.inFlight / 300);
  assert.ok(b < 0.65, `lowest score took ${b}; lowest-score-wins would take 100 %`);
  assert.ok(b > c && c > a && a > 0.03, `shares ${a} ${b} ${c}`);
});

Deno.test("createLeastResources() does not herd when stats lag behind the load they describe", () => {
  const { clock, samples, strategy } = setup(53);
  const list = makeBackends([1, 1, 1]);
  let nextSample = clock.now;
  // 400 requests/s of 100 ms each on three equal containers. CPU follows in-flight requests, but
  // is only sampled every 2 s, so each sample describes the load placed up to 2 s earlier.
  const placements = simulate({
    strategy,
    clock,
    candidates: (t) => {
      if (t >= nextSample) {
        for (const b of list) samples.set(b.name, { cpu: Math.min(1, b.inFlight / 30), memory: 0.3, at: t });
        nextSample = t + 2000;
      }
      return list;
    },
    outcome: () => ({ latencyMs: 100, ok: true }),
    intervalMs: 2.5,
    durationMs: 60_000,
  });
  const start = 100_000;
  for (let t = start; t < start + 60_000; t += 2000) {
    for (const b of list) {
      const share = shareBetween(placements, b.name, t, t + 2000);
      assert.ok(share > 0.15 && share < 0.5, `${b.name} took ${share} in the window at ${t - start} ms`);
    }
  }
});

Deno.test("createLeastResources() scores a stale or missing sample as the mean of the fresh ones", () => {
  for (const stale of [true, false]) {
    const { strategy, sample } = setup(54, { statsMaxAgeMs: 5000 });
    if (stale) sample("a", 0.99, 0.99, 6000); // older than statsMaxAgeMs: ignored, not believed
    sample("b", 0.2, 0.2);
    sample("c", 0.4, 0.4);
    // a counts as 0.3: it beats c and loses to b, so it keeps the draws it wins (1/3).
    const got = shares(countPicks(strategy, makeBackends([1, 1, 1]), 30_000));
    assert.ok(Math.abs(got.get("a")! - 1 / 3) < 0.02, `stale=${stale}: ${[...got]}`);
    assert.equal(got.get("c"), 0);
  }
});

Deno.test("createLeastResources() falls back to least in-flight when no sample is fresh", () => {
  const { strategy, sample } = setup(55);
  sample("a", 0.01, 0.01, 60_000);
  const list = makeBackends([1, 1, 1, 1]);
  list[3].inFlight = 2;
  const got = shares(countPicks(strategy, list, 30_000));
  for (const name of ["a", "b", "c"]) assert.ok(Math.abs(got.get(name)! - 1 / 3) < 0.02, `${[...got]}`);
  assert.equal(got.get("d"), 0);
});

Deno.test("createLeastResources() weighs CPU and memory as tuned", () => {
  const list = makeBackends([1, 1]);
  const byDefault = setup(56);
  byDefault.sample("a", 0.9, 0.1);
  byDefault.sample("b", 0.1, 0.9);
  assert.equal(byDefault.strategy.pick(list, { hashKey: "" })?.name, "b"); // 0.58 vs 0.42
  const memoryOnly = setup(56, { cpuWeight: 0, memoryWeight: 1 });
  memoryOnly.sample("a", 0.9, 0.1);
  memoryOnly.sample("b", 0.1, 0.9);
  assert.equal(memoryOnly.strategy.pick(list, { hashKey: "" })?.name, "a");
});

Deno.test("createLeastResources() ignores broken samples instead of trusting them", () => {
  const { strategy, sample } = setup(57);
  sample("a", NaN, 0.1);
  sample("b", 0.5, 0.5);
  sample("c", 0.5, 0.5);
  const got = shares(countPicks(strategy, makeBackends([1, 1, 1]), 30_000));
  for (const name of ["a", "b", "c"]) assert.ok(Math.abs(got.get(name)! - 1 / 3) < 0.02, `${[...got]}`);
});
