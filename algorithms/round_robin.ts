/**
 * Round robin: each eligible backend in turn, ignoring weight and load.
 *
 * Position is remembered by backend id rather than by array index, so when backends join,
 * leave or change health the rotation continues with the next backend after the last one chosen:
 * nobody is skipped and nobody is served twice in a row because the list shifted (the Go project
 * indexed into the healthy list and did both).
 *
 * @module
 */

import type { Candidate, Strategy, StrategyOptions } from "./types.ts";

/**
 * Create a round-robin strategy.
 *
 * @example Usage
 * ```ts
 * import { createRoundRobin } from "./round_robin.ts";
 * const rr = createRoundRobin({ random: Math.random, now: performance.now });
 * const backends = [{ id: 0, name: "a", weight: 1, inFlight: 0 }, { id: 1, name: "b", weight: 1, inFlight: 0 }];
 * rr.pick(backends, { hashKey: "" })?.name; // "a", then "b", then "a"
 * ```
 */
export function createRoundRobin(_options: StrategyOptions): Strategy {
  let lastId = -1;
  let lastList: readonly Candidate[] | undefined;
  let lastIndex = -1;
  return {
    name: "round_robin",
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      let i: number;
      if (candidates === lastList && candidates[lastIndex]?.id === lastId) {
        // Fast path: same list as last time.
        i = lastIndex + 1 === n ? 0 : lastIndex + 1;
      } else {
        i = firstAfter(candidates, lastId);
      }
      const chosen = candidates[i];
      lastList = candidates;
      lastIndex = i;
      lastId = chosen.id;
      return chosen;
    },
  };
}

/** Index of the first candidate whose id is greater than `id` (wrapping to 0), by binary search. */
function firstAfter(candidates: readonly Candidate[], id: number): number {
  let lo = 0;
  let hi = candidates.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (candidates[mid].id <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo === candidates.length ? 0 : lo;
}
