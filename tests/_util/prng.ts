/**
 * A seeded pseudo-random generator for tests and benchmarks, so every run draws the same numbers
 * and a failing seed can be replayed. Strategies never import it: they receive `random` in
 * their options.
 *
 * The generator itself lives in `demo/shared/random.ts` (the demo tools seed runs with it too); this name
 * is kept for the tests that use it.
 *
 * @module
 */

import { seededRandom } from "../../demo/shared/random.ts";

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
export const mulberry32: (seed: number) => () => number = seededRandom;
