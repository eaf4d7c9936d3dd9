import assert from "node:assert/strict";
import { createPeakEwma, FAILURE_PENALTY_MS } from "../../algorithms/peak_ewma.ts";
import type { Feedback } from "../../algorithms/types.ts";
import { makeBackends, pickOne, type TestBackend } from "../_util/backends.ts";
import { mulberry32 } from "../_util/prng.ts";
import { type Clock, shareBetween, simulate } from "../_util/simulate.ts";

/** A peak-EWMA strategy on a simulated clock, plus latencies with ±20 % seeded jitter. */
function setup(seed: number, ewmaDecayMs?: number) {
  const clock: Clock = { now: 0 };
  const strategy = createPeakEwma({
    random: mulberry32(seed),
    now: () => clock.now,
    tuning: { ewmaDecayMs },
  });
  const noise = mulberry32(seed + 1);
  const jitter = (ms: number) => ms * (0.8 + 0.4 * noise());
  return { clock, strategy, jitter };
}

/** First 2-second window, from `from`, in which `name` gets at least `share` of the traffic. */
function regainedAt(
  placements: ReturnType<typeof simulate>,
  name: string,
  from: number,
  share: number,
): number {
  for (let t = from; t < from + 600_000; t += 2000) {
    if (shareBetween(placements, name, t, t + 2000) >= share) return t;
  }
  return Infinity;
}

/**
 * Three backends at 200 requests/s for `durationMs`; b answers in 200 ms instead of 10 ms
 * (±20 %) from 10 s to 30 s. Returns every placement.
 */
function slowdown(seed: number, durationMs: number, ewmaDecayMs?: number) {
  const { clock, strategy, jitter } = setup(seed, ewmaDecayMs);
  const list = makeBackends([1, 1, 1]);
  const slow = (b: TestBackend, t: number) => b.name === "b" && t >= 10_000 && t < 30_000;
  return simulate({
    strategy,
    clock,
    candidates: () => list,
    intervalMs: 5,
    durationMs,
    outcome: (b, t) => ({ latencyMs: jitter(slow(b, t) ? 200 : 10), ok: true }),
  });
}

Deno.test("createPeakEwma() moves traffic off a slowed backend within a second and back after recovery", () => {
  const placements = slowdown(41, 120_000);
  assert.ok(Math.abs(shareBetween(placements, "b", 2000, 10_000) - 1 / 3) < 0.08, "b has its share before");
  assert.ok(shareBetween(placements, "b", 11_000, 30_000) < 0.01, "b loses its traffic within a second");
  // Unobserved, b's estimate decays (τ = 10 s) until a probe finds it fast again.
  const back = regainedAt(placements, "b", 30_000, 0.2);
  assert.ok(back <= 30_000 + 40_000, `b regained a fair share at ${back} ms`);
  assert.ok(
    Math.abs(shareBetween(placements, "b", 90_000, 120_000) - 1 / 3) < 0.08,
    "b is back to its share",
  );
});

Deno.test("createPeakEwma() recovers faster with a shorter decay window", () => {
  const recovery = (ewmaDecayMs: number) =>
    regainedAt(slowdown(42, 90_000, ewmaDecayMs), "b", 30_000, 0.2) - 30_000;
  const fast = recovery(2_000);
  const slow = recovery(10_000);
  assert.ok(fast <= 10_000 && fast < slow, `τ 2 s: ${fast} ms, τ 10 s: ${slow} ms`);
});

Deno.test("createPeakEwma() counts fast failures as slow responses", () => {
  const { clock, strategy, jitter } = setup(43);
  const list = makeBackends([1, 1, 1]);
  // c refuses connections from 5 s on: failures arrive in 1 ms, faster than any real response.
  const outcome = (b: TestBackend, t: number): Feedback =>
    b.name === "c" && t >= 5_000 ? { latencyMs: 1, ok: false } : { latencyMs: jitter(20), ok: true };
  const placements = simulate({
    strategy,
    clock,
    candidates: () => list,
    intervalMs: 5,
    durationMs: 30_000,
    outcome,
  });
  assert.ok(shareBetween(placements, "c", 0, 5_000) > 0.2);
  assert.ok(
    shareBetween(placements, "c", 6_000, 30_000) < 0.02,
    `c share ${shareBetween(placements, "c", 6_000, 30_000)}`,
  );
  assert.ok(FAILURE_PENALTY_MS >= 100);
});

Deno.test("createPeakEwma() probes a new backend at once, one request at a time until measured", () => {
  const { clock, strategy } = setup(44);
  const [a, b, c] = makeBackends([1, 1, 1]);
  for (let i = 0; i < 200; i++) {
    clock.now += 5;
    const chosen = pickOne(strategy, [a, b]);
    strategy.observe?.(chosen, { latencyMs: 10, ok: true });
  }
  const all = [a, b, c];
  let firstProbe = -1;
  for (let i = 0; i < 200; i++) {
    clock.now += 1;
    const chosen = pickOne(strategy, all);
    chosen.inFlight++; // nothing completes: c must not be flooded while unmeasured
    if (chosen === c && firstProbe < 0) firstProbe = i;
  }
  assert.ok(firstProbe >= 0 && firstProbe < 10, `first probe at pick ${firstProbe}`);
  assert.equal(c.inFlight, 1);
  c.inFlight = 0;
  strategy.observe?.(c, { latencyMs: 5, ok: true });
  a.inFlight = b.inFlight = 0;
  let toC = 0;
  for (let i = 0; i < 3000; i++) if (pickOne(strategy, all) === c) toC++;
  assert.ok(toC > 1000, `measured fast, c gets ${toC} of 3000`);
});

Deno.test("createPeakEwma() treats a backend returning to health as new", () => {
  const { clock, strategy } = setup(45);
  const [a, b] = makeBackends([1, 1]);
  strategy.pick([a, b], { hashKey: "" });
  strategy.observe?.(a, { latencyMs: 5, ok: true });
  strategy.observe?.(b, { latencyMs: 5_000, ok: false });
  clock.now += 1000;
  assert.equal(strategy.pick([a, b], { hashKey: "" }), a);
  strategy.pick([a], { hashKey: "" }); // b ejected
  clock.now += 1000;
  const back = [a, b];
  let toB = 0;
  for (let i = 0; i < 100; i++) if (strategy.pick(back, { hashKey: "" }) === b) toB++;
  assert.ok(toB > 20, `returning backend got ${toB} of 100 idle picks`);
});

Deno.test("createPeakEwma() divides cost by weight", () => {
  const { strategy } = setup(46);
  const [a, b] = makeBackends([4, 1]);
  strategy.pick([a, b], { hashKey: "" });
  strategy.observe?.(a, { latencyMs: 30, ok: true });
  strategy.observe?.(b, { latencyMs: 10, ok: true });
  assert.equal(strategy.pick([a, b], { hashKey: "" }), a); // 30/4 < 10/1
});
