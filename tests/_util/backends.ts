/**
 * Candidate lists and pick counting for strategy tests and benchmarks.
 *
 * @module
 */

import type { Candidate, PickContext, Strategy } from "../../algorithms/types.ts";

/** A candidate whose weight and in-flight count a test may change, as the shell's backends do. */
export interface TestBackend extends Candidate {
  weight: number;
  inFlight: number;
}

/**
 * Backends named `a`, `b`, `c`, ... (or `prefix0`, `prefix1`, ... when more than 26 or a prefix
 * is given), one per weight, ids in order.
 *
 * @example Usage
 * ```ts
 * import { makeBackends } from "./backends.ts";
 * makeBackends([5, 1, 1]).map((b) => b.name); // ["a", "b", "c"]
 * ```
 */
export function makeBackends(weights: readonly number[], prefix?: string): TestBackend[] {
  const named = prefix === undefined && weights.length <= 26;
  return weights.map((weight, id) => ({
    id,
    name: named ? String.fromCharCode(97 + id) : `${prefix ?? "backend"}${id}`,
    weight,
    inFlight: 0,
  }));
}

/** Pick `count` times and count the picks per backend name; `key(i)` supplies hash keys. */
export function countPicks(
  strategy: Strategy,
  candidates: readonly Candidate[],
  count: number,
  key: (i: number) => string = (i) => `198.51.${(i >> 8) & 255}.${i & 255}`,
): Map<string, number> {
  const counts = new Map<string, number>(candidates.map((c) => [c.name, 0]));
  const ctx: { hashKey: string } = { hashKey: "" };
  for (let i = 0; i < count; i++) {
    ctx.hashKey = key(i);
    const chosen = strategy.pick(candidates, ctx as PickContext);
    if (chosen === undefined) throw new Error("pick() returned undefined for a non-empty list");
    counts.set(chosen.name, (counts.get(chosen.name) ?? 0) + 1);
  }
  return counts;
}

/** The names of `count` successive picks, concatenated (for single-letter names). */
export function sequence(strategy: Strategy, candidates: readonly Candidate[], count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += strategy.pick(candidates, { hashKey: "" })?.name ?? "-";
  return out;
}

/** Each backend's share of the total count. */
export function shares(counts: ReadonlyMap<string, number>): Map<string, number> {
  let total = 0;
  for (const n of counts.values()) total += n;
  return new Map([...counts].map(([name, n]) => [name, n / total]));
}

/** One pick from a non-empty list, typed as the list's element (so tests can bump `inFlight`). */
export function pickOne<T extends Candidate>(strategy: Strategy, list: readonly T[], hashKey = ""): T {
  const chosen = strategy.pick(list, { hashKey });
  if (chosen === undefined) throw new Error("pick() returned undefined for a non-empty list");
  return chosen as T;
}
