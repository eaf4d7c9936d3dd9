/**
 * Least connections: the backend with the fewest requests in flight per unit of weight
 * (`inFlight / weight`), as nginx's `least_conn`.
 *
 * Ties are common (every idle backend scores 0) and the Go project sent all of them to the first
 * server. Here a tie is broken at random in proportion to weight, so an idle pool behaves like
 * weighted random and no backend is favoured by its position. Cost: one pass over the candidates
 * to find the minimum and the tied weight, and a second pass only when there is a tie.
 *
 * @module
 */

import type { Strategy, StrategyOptions } from "./types.ts";

/**
 * Create a least-connections strategy.
 *
 * @example Usage
 * ```ts
 * import { createLeastConnections } from "./least_connections.ts";
 * const lc = createLeastConnections({ random: Math.random, now: performance.now });
 * const list = [{ id: 0, name: "a", weight: 1, inFlight: 3 }, { id: 1, name: "b", weight: 1, inFlight: 1 }];
 * lc.pick(list, { hashKey: "" })?.name; // "b"
 * ```
 */
export function createLeastConnections(options: StrategyOptions): Strategy {
  const random = options.random;
  return {
    name: "least_connections",
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      let best = 0;
      let bestLoad = Infinity;
      let tiedWeight = 0;
      let tied = 0;
      for (let i = 0; i < n; i++) {
        const { inFlight, weight } = candidates[i];
        // Division is exactly rounded, so equal ratios compare equal.
        const load = inFlight / weight;
        if (load < bestLoad) {
          bestLoad = load;
          best = i;
          tiedWeight = weight;
          tied = 1;
        } else if (load === bestLoad) {
          tiedWeight += weight;
          tied++;
        }
      }
      if (tied === 1) return candidates[best];
      let target = random() * tiedWeight;
      let last = best;
      for (let i = best; i < n; i++) {
        const candidate = candidates[i];
        if (candidate.inFlight / candidate.weight !== bestLoad) continue;
        last = i;
        target -= candidate.weight;
        if (target < 0) return candidate;
      }
      return candidates[last];
    },
  };
}
