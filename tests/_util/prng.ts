/**
 * A seeded pseudo-random generator for tests and benchmarks, so every run draws the same numbers
 * and a failing seed can be replayed. Strategies never import it: they receive `random` in
 * their options.
 *
 * @module
 */

/**
 * mulberry32 (Tommy Ettinger's public-domain 32-bit generator): uniform in [0, 1), period 2^32,
 * good enough for load simulations and share measurements.
 *
 * @example Usage
 * ```ts
 * import { mulberry32 } from "./prng.ts";
 * const random = mulberry32(42);
 * random() === mulberry32(42)(); // true
 * ```
 */
export function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
