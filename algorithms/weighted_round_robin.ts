/**
 * Smooth weighted round robin, as in nginx's upstream module: every pick adds each backend's
 * weight to its running `current`, chooses the largest, and subtracts the total weight from the
 * winner. Weights 5,1,1 give `a a b a c a a`: exact 5:1:1 shares in every window of 7 picks and
 * never more than four `a` in a row, where the Go project's naive version sent five in a row.
 *
 * Why nginx's scheme and not earliest-deadline-first (Traefik's heap): EDF serves equal
 * deadlines back to back, so 5,1,1 gives `a a a a a b c`, a burst of five. Smooth WRR spreads
 * light backends across the cycle. Its price is an O(n) pass per pick (~1 ns per backend).
 *
 * Dynamics the shell relies on:
 * - Weights are read on every pick, so a changed weight (slow start ramp, reload) takes effect
 *   at once, and fractional weights work because the arithmetic is plain floating point.
 * - A backend that joins (or returns to health) starts at `current = 0` after the others are
 *   re-centred to sum to zero, so it takes its share from the next cycle instead of flooding.
 *
 * @module
 */

import { createAlignedState } from "./_aligned_state.ts";
import type { Strategy, StrategyOptions } from "./types.ts";

/**
 * Create a smooth weighted round-robin strategy.
 *
 * @example Usage
 * ```ts
 * import { createWeightedRoundRobin } from "./weighted_round_robin.ts";
 * const wrr = createWeightedRoundRobin({ random: Math.random, now: performance.now });
 * const list = [
 *   { id: 0, name: "a", weight: 5, inFlight: 0 },
 *   { id: 1, name: "b", weight: 1, inFlight: 0 },
 *   { id: 2, name: "c", weight: 1, inFlight: 0 },
 * ];
 * Array.from({ length: 7 }, () => wrr.pick(list, { hashKey: "" })?.name).join(""); // "aabacaa"
 * ```
 */
export function createWeightedRoundRobin(_options: StrategyOptions): Strategy {
  const table = createAlignedState<{ current: number }>({
    fresh: () => ({ current: 0 }),
    onChange: recentre,
  });
  return {
    name: "weighted_round_robin",
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      const states = table.align(candidates);
      let total = 0;
      let best = 0;
      let bestCurrent = -Infinity;
      for (let i = 0; i < n; i++) {
        const weight = candidates[i].weight;
        const state = states[i];
        const current = state.current + weight;
        state.current = current;
        total += weight;
        // Strictly greater: ties go to the lowest id, which makes sequences reproducible.
        if (current > bestCurrent) {
          bestCurrent = current;
          best = i;
        }
      }
      states[best].current -= total;
      return candidates[best];
    },
    forget(name) {
      table.forget(name);
    },
  };
}

/**
 * Shift running weights so they sum to zero again. Smooth WRR keeps that sum invariant; a leaving
 * backend takes its share of it away, and without re-centring the offset would linger and favour
 * whoever happened to be ahead. A uniform shift keeps the order of everyone's turn.
 */
function recentre(states: readonly { current: number }[]): void {
  if (states.length === 0) return;
  let sum = 0;
  for (const state of states) sum += state.current;
  const mean = sum / states.length;
  for (const state of states) state.current -= mean;
}
