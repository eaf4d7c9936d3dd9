/**
 * Power of two choices, least request (Envoy's default `LEAST_REQUEST` with `choice_count: 2`):
 * two distinct backends at random, the one with fewer requests in flight per unit of weight wins.
 *
 * Load is `(inFlight + 1) / weight`, the load the backend would carry after taking this request,
 * so an idle pool still prefers heavier backends instead of treating every idle backend alike.
 * Sampling itself is uniform; weights act only in the comparison, so shares follow weights
 * loosely (5,1,1 idle gives about 67/17/17, not 71/14/14). Use `weighted_round_robin` for
 * exact shares. O(1) per pick.
 *
 * @module
 */

import { pickOfTwo } from "./_two_choices.ts";
import type { Strategy, StrategyOptions } from "./types.ts";

/**
 * Create a power-of-two-choices least-request strategy.
 *
 * @example Usage
 * ```ts
 * import { createPowerOfTwo } from "./power_of_two.ts";
 * const p2c = createPowerOfTwo({ random: Math.random, now: performance.now });
 * const list = [{ id: 0, name: "a", weight: 1, inFlight: 4 }, { id: 1, name: "b", weight: 1, inFlight: 0 }];
 * p2c.pick(list, { hashKey: "" })?.name; // "b"
 * ```
 */
export function createPowerOfTwo(options: StrategyOptions): Strategy {
  const random = options.random;
  return {
    name: "power_of_two",
    pick(candidates) {
      if (candidates.length === 0) return undefined;
      const cost = (i: number) => (candidates[i].inFlight + 1) / candidates[i].weight;
      return candidates[pickOfTwo(candidates.length, random, cost)];
    },
  };
}
