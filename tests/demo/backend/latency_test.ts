import { ok } from "node:assert/strict";
import { createLatencySampler } from "../../../demo/backend/latency.ts";
import { seededRandom } from "../../../demo/shared/random.ts";
import { mean, quantile, skewness, stddev } from "../../_util/stats.ts";

function draw(
  distribution: "fixed" | "normal" | "lognormal",
  latencyMs: number,
  jitterMs: number,
  n = 20_000,
) {
  const next = createLatencySampler({ distribution, latencyMs, jitterMs }, seededRandom(7));
  return Array.from({ length: n }, next);
}

function near(actual: number, expected: number, tolerance: number, what: string) {
  ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual.toFixed(3)}, expected ${expected} ± ${tolerance}`,
  );
}

Deno.test("createLatencySampler() fixed stays within the jitter band around the latency", () => {
  const samples = draw("fixed", 20, 5);
  ok(Math.min(...samples) >= 15 && Math.max(...samples) <= 25);
  near(mean(samples), 20, 0.1, "mean");
  near(stddev(samples), 5 / Math.sqrt(3), 0.05, "stddev of a uniform band");
  ok(draw("fixed", 20, 0, 100).every((v) => v === 20), "no jitter means constant");
});

Deno.test("createLatencySampler() normal has the asked mean and standard deviation", () => {
  const samples = draw("normal", 50, 10);
  near(mean(samples), 50, 0.3, "mean");
  near(stddev(samples), 10, 0.3, "stddev");
  near(skewness(samples), 0, 0.1, "skewness");
  near(quantile(samples, 0.99), 50 + 2.326 * 10, 1, "p99");
});

Deno.test("createLatencySampler() lognormal has the asked mean and spread with a long right tail", () => {
  const samples = draw("lognormal", 20, 10);
  near(mean(samples), 20, 0.3, "mean");
  near(stddev(samples), 10, 0.6, "stddev");
  // Median of a lognormal is m / sqrt(1 + cv^2) = 20 / sqrt(1.25) = 17.9, below the mean.
  near(quantile(samples, 0.5), 17.89, 0.3, "median");
  ok(skewness(samples) > 1.2, `skewness ${skewness(samples)} should be about 1.6`);
  ok(Math.min(...samples) > 0, "lognormal never reaches zero");
});

Deno.test("createLatencySampler() never returns a negative latency", () => {
  ok(draw("normal", 5, 10).every((v) => v >= 0));
  ok(draw("fixed", 1, 5).every((v) => v >= 0));
});

Deno.test("createLatencySampler() sends tailRatio of draws to tailMs, independently, and only then draws more", () => {
  const next = createLatencySampler(
    { distribution: "lognormal", latencyMs: 20, jitterMs: 5, tailRatio: 0.01, tailMs: 1_000 },
    seededRandom(7),
  );
  const samples = Array.from({ length: 100_000 }, next);
  const slow = samples.filter((v) => v === 1_000).length;
  near(slow / samples.length, 0.01, 0.001, "tail share");
  ok(samples.filter((v) => v !== 1_000).every((v) => v < 200), "the rest is the lognormal");
  // Runs of slow draws are as rare as independence says: two in a row about 1 in 10,000.
  let pairs = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i] === 1_000 && samples[i - 1] === 1_000) pairs++;
  ok(pairs <= 40, `${pairs} back-to-back slow draws`);
  // Without a tail the sequence is exactly the one it always was.
  const plain = createLatencySampler(
    { distribution: "lognormal", latencyMs: 20, jitterMs: 5 },
    seededRandom(7),
  );
  const zero = createLatencySampler(
    { distribution: "lognormal", latencyMs: 20, jitterMs: 5, tailRatio: 0 },
    seededRandom(7),
  );
  for (let i = 0; i < 100; i++) ok(plain() === zero());
});
