/**
 * The power of two random choices (Mitzenmacher, "The Power of Two Choices in Randomized Load
 * Balancing", 2001): draw two distinct backends at random and keep the cheaper one.
 *
 * Comparing two instead of scanning all is O(1), and it is what keeps a stale or noisy cost
 * from herding traffic: the single cheapest backend wins only the draws it appears in, while
 * the dearest one never wins. Shared by every cost-based strategy so they sample identically.
 *
 * @module
 */

/**
 * Index of the cheaper of two distinct random indices in `[0, n)`; `0` when `n` is 1.
 *
 * Ties keep the first draw, which is itself uniform, so ties carry no positional bias.
 *
 * @param n number of candidates, at least 1
 * @param random uniform in [0, 1)
 * @param cost cost of the candidate at an index; lower is better
 * @example Usage
 * ```ts
 * import { pickOfTwo } from "./_two_choices.ts";
 * const loads = [5, 1, 9];
 * pickOfTwo(3, Math.random, (i) => loads[i]); // never 2
 * ```
 */
export function pickOfTwo(n: number, random: () => number, cost: (index: number) => number): number {
  if (n <= 1) return 0;
  const first = Math.min(n - 1, Math.floor(random() * n));
  let second = Math.min(n - 2, Math.floor(random() * (n - 1)));
  // Draw from the n - 1 others and skip over the first, so the two are distinct and uniform.
  if (second >= first) second++;
  return cost(second) < cost(first) ? second : first;
}
