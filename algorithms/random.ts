/**
 * Random: each pick independent, uniform over the candidates, or proportional to weight when
 * weights differ (slow start lowers a weight without the shell telling anyone).
 *
 * Statelessness is the point: replicas of the proxy cannot synchronise into bursts, and nothing
 * needs resetting when backends come and go. The cost is one pass over the weights per pick
 * (weights may change between any two picks), plus a second pass only when they differ.
 *
 * @module
 */

import type { Strategy, StrategyOptions } from "./types.ts";

/**
 * Create a random strategy drawing from `options.random`.
 *
 * @example Usage
 * ```ts
 * import { createRandom } from "./random.ts";
 * const random = createRandom({ random: Math.random, now: performance.now });
 * random.pick([{ id: 0, name: "a", weight: 1, inFlight: 0 }], { hashKey: "" })?.name; // "a"
 * ```
 */
export function createRandom(options: StrategyOptions): Strategy {
  const random = options.random;
  return {
    name: "random",
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      const first = candidates[0].weight;
      let total = 0;
      let uniform = true;
      for (let i = 0; i < n; i++) {
        const weight = candidates[i].weight;
        total += weight;
        if (weight !== first) uniform = false;
      }
      if (uniform) return candidates[Math.min(n - 1, Math.floor(random() * n))];
      let target = random() * total;
      for (let i = 0; i < n - 1; i++) {
        target -= candidates[i].weight;
        if (target < 0) return candidates[i];
      }
      // Rounding can leave a sliver past the last subtraction; it belongs to the last backend.
      return candidates[n - 1];
    },
  };
}
