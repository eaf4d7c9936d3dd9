/**
 * Latency profiles for the demo backend: fixed, normal and lognormal.
 *
 * Real services are not a constant sleep: most answers are near the typical time and a few are
 * much slower. The lognormal profile gives that long right tail with a chosen mean and spread,
 * which is what latency-aware strategies (least time, peak EWMA) must cope with.
 *
 * @module
 */

/** The shapes a backend's latency can take. */
export const DISTRIBUTIONS = ["fixed", "normal", "lognormal"] as const;

/** One of {@linkcode DISTRIBUTIONS}. */
export type Distribution = typeof DISTRIBUTIONS[number];

/** How to draw a request's latency. */
export interface LatencyProfile {
  /** Typical latency in milliseconds: the constant (fixed) or the mean (normal, lognormal). */
  readonly latencyMs: number;
  /**
   * Spread in milliseconds: for `fixed` the half-width of a uniform band around the latency
   * (0 = constant); for `normal` and `lognormal` the standard deviation.
   */
  readonly jitterMs: number;
  /** Shape of the draw. */
  readonly distribution: Distribution;
  /**
   * Share of requests, 0..1, that take `tailMs` instead of a draw: a pause of the server's own
   * (GC, a cold cache, a slow disk) that strikes each request independently. @default 0
   */
  readonly tailRatio?: number;
  /** Latency in milliseconds of those requests. @default 0 */
  readonly tailMs?: number;
}

/**
 * Create a sampler returning one latency in milliseconds (never negative) per call.
 *
 * For lognormal the underlying normal's parameters are solved so that the samples themselves
 * have mean `latencyMs` and standard deviation `jitterMs`: σ² = ln(1 + s²/m²), μ = ln m − σ²/2.
 * Normal draws below zero are clamped to zero (rare unless jitter is near the mean). With a
 * `tailRatio`, that share of requests takes `tailMs` instead, each one independently.
 *
 * @param profile Latency, jitter and distribution.
 * @param random Uniform source in [0, 1); inject a seeded one for repeatable runs.
 * @returns A function drawing the next latency.
 *
 * @example Usage
 * ```ts
 * import { createLatencySampler } from "./latency.ts";
 * import { seededRandom } from "../shared/random.ts";
 * const next = createLatencySampler({ latencyMs: 20, jitterMs: 5, distribution: "lognormal" }, seededRandom(1));
 * next(); // around 20, occasionally much more
 * ```
 */
export function createLatencySampler(profile: LatencyProfile, random: () => number): () => number {
  const draw = createDraw(profile, random);
  const { tailRatio = 0, tailMs = 0 } = profile;
  // No tail, no extra random draw: the other profiles' sequences stay as they were.
  if (tailRatio <= 0) return draw;
  return () => random() < tailRatio ? tailMs : draw();
}

/** The distribution's own sampler, without the tail. */
function createDraw(profile: LatencyProfile, random: () => number): () => number {
  const { latencyMs: mean, jitterMs: spread } = profile;
  switch (profile.distribution) {
    case "fixed":
      return () => Math.max(0, mean + spread * (2 * random() - 1));
    case "normal":
      return () => Math.max(0, mean + spread * standardNormal(random));
    case "lognormal": {
      if (mean <= 0) return () => 0;
      const sigma2 = Math.log(1 + (spread * spread) / (mean * mean));
      const mu = Math.log(mean) - sigma2 / 2;
      const sigma = Math.sqrt(sigma2);
      return () => Math.exp(mu + sigma * standardNormal(random));
    }
  }
}

/** One standard normal draw by Box-Muller (two uniforms; 1 - u keeps the log finite). */
function standardNormal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
