/**
 * Seeded uniform random numbers, so demo runs, comparisons and tests can be replayed exactly.
 *
 * `Math.random` cannot be seeded; a run that found something interesting must be repeatable with
 * the same seed. Mulberry32 is tiny, fast and good enough for load shaping and sampling (it is not
 * for secrets).
 *
 * @module
 */

/**
 * Create a uniform generator in [0, 1) from a 32-bit seed (mulberry32, Tommy Ettinger's
 * public-domain generator: period 2^32).
 *
 * @param seed Any number; only its low 32 bits are used.
 * @returns A function returning the next number in [0, 1) on each call.
 *
 * @example Usage
 * ```ts
 * import { seededRandom } from "./random.ts";
 * const a = seededRandom(42);
 * const b = seededRandom(42);
 * a() === b(); // true: same seed, same sequence
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A fresh seed from the platform's secure generator, for runs that were not given one.
 *
 * Report it alongside the results so the run can be repeated with `--seed`.
 *
 * @returns An unsigned 32-bit integer.
 */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
