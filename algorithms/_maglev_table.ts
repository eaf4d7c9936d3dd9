/**
 * Maglev lookup table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016, section 3.4): each backend has a pseudo-random permutation of the table
 * slots, and backends take turns claiming their next free preferred slot until the table is full.
 *
 * Properties we rely on:
 * - Balance: every backend owns `floor(M/n)` or `ceil(M/n)` slots.
 * - Minimal disruption: removing one of n backends reassigns its slots and only a few others,
 *   because everybody else's preferences are unchanged (the paper measures a few percent extra
 *   at M >= 100n).
 * - Determinism: the table depends only on the set of names. Names are sorted before filling,
 *   so replicas that list backends in another order still agree on every key.
 *
 * @module
 */

import { hash32 } from "./_hash.ts";

/** Seeds for the offset and skip hashes; any fixed pair works, they only have to differ. */
const OFFSET_SEED = 0x2545f491;
const SKIP_SEED = 0x6c8e9cf5;

/** The smallest table size; 65537 (prime, 2^16 + 1) is the paper's small-table example. */
export const MIN_TABLE_SIZE = 65537;

/**
 * Table size for `n` backends: the smallest prime >= 65537·2^k, with k the smallest that gives
 * at least 100 slots per backend (so 65537 up to 655 backends, 131101 up to 1310, ...).
 *
 * The paper recommends M >= 100n to keep disruption within a few percent, and the 65537 floor
 * keeps per-backend imbalance under 0.01 % even for two backends. The size must not move with
 * every membership change (a new size remaps every key), so it grows in doublings only. Prime
 * size makes every skip in [1, M) generate a full permutation.
 */
export function tableSize(n: number): number {
  let base = MIN_TABLE_SIZE;
  while (base < 100 * n) base *= 2;
  let m = base;
  while (!isPrime(m)) m++;
  return m;
}

/**
 * Build the lookup table for `names`: entry `s` is the index into `names` of the backend that
 * owns slot `s`. Cost is about M·ln M probes (the last free slots are the hardest to find).
 *
 * @example Usage
 * ```ts
 * import { buildMaglevTable } from "./_maglev_table.ts";
 * const table = buildMaglevTable(["a", "b", "c"]);
 * table.length; // 65537
 * ```
 */
export function buildMaglevTable(names: readonly string[]): Int32Array {
  const n = names.length;
  const m = tableSize(n);
  const table = new Int32Array(m).fill(-1);
  if (n === 0) return table;
  // Fill in sorted-name order so the result does not depend on the caller's order.
  const order = names.map((_, i) => i).sort((
    a,
    b,
  ) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : a - b));
  const position = new Int32Array(n);
  const skip = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const name = names[order[k]];
    position[k] = hash32(name, OFFSET_SEED) % m;
    skip[k] = (hash32(name, SKIP_SEED) % (m - 1)) + 1;
  }
  let filled = 0;
  for (;;) {
    for (let k = 0; k < n; k++) {
      let slot = position[k];
      while (table[slot] >= 0) {
        slot += skip[k];
        if (slot >= m) slot -= m;
      }
      table[slot] = order[k];
      slot += skip[k];
      position[k] = slot >= m ? slot - m : slot;
      if (++filled === m) return table;
    }
  }
}

/** Trial division; table sizes are at most a few hundred thousand. */
function isPrime(m: number): boolean {
  if (m < 2) return false;
  if (m % 2 === 0) return m === 2;
  for (let d = 3; d * d <= m; d += 2) if (m % d === 0) return false;
  return true;
}
