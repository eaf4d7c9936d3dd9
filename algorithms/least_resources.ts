/**
 * Least resources: prefer the backend whose container uses the least CPU and memory, from the
 * Docker stats collector (`options.stats`), tempered by the requests already in flight.
 *
 * Score: `cpuWeight × cpu + memoryWeight × memory` (ratios 0..1, weights 0.6/0.4 by default, as
 * in the Go project). Cost: `(score + 0.05) × (inFlight + 1) / weight`, compared between two
 * random candidates (power of two choices).
 *
 * Why not just "lowest score wins" (the Go project): stats arrive every second or two, and in
 * between every request went to the same container, which then looked busiest at the next
 * sample, so traffic swung between containers. Here the in-flight factor raises a container's
 * cost with each request it is given before the next sample, and the two-choice draw means the
 * best-looking container wins only the draws it is in. The 0.05 floor keeps idle containers
 * (score 0) comparable by in-flight count.
 *
 * Missing or stale samples (older than `tuning.statsMaxAgeMs`, default 10 s, or not finite) are
 * never skipped: such a backend is scored as the mean of the fresh scores among the candidates,
 * i.e. assumed average, so it keeps its share and is neither preferred nor starved. With no fresh
 * sample at all every backend scores half the maximum and the strategy reduces to least
 * in-flight of two. The mean is recomputed at most once a second per candidate list.
 *
 * @module
 */

import { pickOfTwo } from "./_two_choices.ts";
import type { Candidate, Strategy, StrategyOptions } from "./types.ts";

/** Default weight of the CPU ratio in the score. */
export const DEFAULT_CPU_WEIGHT = 0.6;
/** Default weight of the memory ratio in the score. */
export const DEFAULT_MEMORY_WEIGHT = 0.4;
/** Default age in milliseconds after which a sample is stale. */
export const DEFAULT_STATS_MAX_AGE_MS = 10_000;
/** Added to every score so idle containers still compare by in-flight requests. */
const SCORE_FLOOR = 0.05;
/** How long the assumed score of unsampled backends is reused, in milliseconds. */
const ASSUMED_SCORE_TTL_MS = 1_000;

/**
 * Create a least-resources strategy.
 *
 * @example Usage
 * ```ts
 * import { createLeastResources } from "./least_resources.ts";
 * const samples = new Map([["a", { cpu: 0.9, memory: 0.5, at: 0 }], ["b", { cpu: 0.1, memory: 0.2, at: 0 }]]);
 * const lr = createLeastResources({ random: Math.random, now: () => 0, stats: samples });
 * const list = [{ id: 0, name: "a", weight: 1, inFlight: 0 }, { id: 1, name: "b", weight: 1, inFlight: 0 }];
 * lr.pick(list, { hashKey: "" })?.name; // "b"
 * ```
 */
export function createLeastResources(options: StrategyOptions): Strategy {
  const { random, now, stats } = options;
  const cpuWeight = options.tuning?.cpuWeight ?? DEFAULT_CPU_WEIGHT;
  const memoryWeight = options.tuning?.memoryWeight ?? DEFAULT_MEMORY_WEIGHT;
  const maxAge = options.tuning?.statsMaxAgeMs ?? DEFAULT_STATS_MAX_AGE_MS;
  const noSample = (cpuWeight + memoryWeight) / 2;
  let assumedFor: readonly Candidate[] | undefined;
  let assumedAt = -Infinity;
  let assumed = noSample;

  /** Score from a fresh sample, or NaN when there is none. */
  function sampled(name: string, t: number): number {
    const sample = stats?.get(name);
    if (sample === undefined || !(t - sample.at <= maxAge)) return NaN;
    const { cpu, memory } = sample;
    if (!Number.isFinite(cpu) || !Number.isFinite(memory)) return NaN;
    return cpuWeight * clampRatio(cpu) + memoryWeight * clampRatio(memory);
  }

  /** Mean fresh score among `candidates`, cached briefly: the score assumed for the unsampled. */
  function assumedScore(candidates: readonly Candidate[], t: number): number {
    if (candidates === assumedFor && t - assumedAt < ASSUMED_SCORE_TTL_MS) return assumed;
    let sum = 0;
    let count = 0;
    for (const candidate of candidates) {
      const score = sampled(candidate.name, t);
      if (score === score) { // not NaN
        sum += score;
        count++;
      }
    }
    assumed = count === 0 ? noSample : sum / count;
    assumedFor = candidates;
    assumedAt = t;
    return assumed;
  }

  return {
    name: "least_resources",
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      if (n === 1) return candidates[0];
      const t = now();
      const cost = (i: number) => {
        const candidate = candidates[i];
        let score = sampled(candidate.name, t);
        if (score !== score) score = assumedScore(candidates, t);
        return (score + SCORE_FLOOR) * (candidate.inFlight + 1) / candidate.weight;
      };
      return candidates[pickOfTwo(n, random, cost)];
    },
  };
}

/** A ratio clamped to 0..1 (CPU can read slightly above 1 over a short interval). */
function clampRatio(ratio: number): number {
  return Math.min(1, Math.max(0, ratio));
}
