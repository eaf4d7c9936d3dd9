/**
 * Smooth weighted round robin over a fixed list (NGINX's algorithm): each pick adds every weight
 * to its running score, takes the highest and subtracts the total from it. Over any
 * `sum(weights)` consecutive picks each item is taken exactly `weight` times, interleaved
 * (weights 90 and 10: one of ten, never ten in a row).
 *
 * The strategies in algorithms/ balance over a changing, health-filtered backend list; a traffic
 * split is a fixed list of services, so this is the small fixed-list form of the same rule.
 *
 * @module
 */

/** Picks among weighted items; see the module documentation. */
export class SmoothSplit<T> {
  readonly #values: readonly T[];
  readonly #weights: readonly number[];
  readonly #scores: number[];
  readonly #total: number;

  /** @param items at least one, each with a positive weight */
  constructor(items: readonly { readonly value: T; readonly weight: number }[]) {
    if (items.length === 0) throw new RangeError("Cannot split among no items");
    this.#values = items.map((i) => i.value);
    this.#weights = items.map((i) => i.weight);
    this.#scores = items.map(() => 0);
    this.#total = this.#weights.reduce((a, b) => a + b, 0);
  }

  /** The next item (bound, so it can be passed around). */
  readonly pick = (): T => {
    const scores = this.#scores;
    let best = 0;
    for (let i = 0; i < scores.length; i++) {
      scores[i] += this.#weights[i];
      if (scores[i] > scores[best]) best = i;
    }
    scores[best] -= this.#total;
    return this.#values[best];
  };
}
