/**
 * Per-backend strategy state, kept by backend name and exposed as an array aligned index for
 * index with the current candidate list.
 *
 * Strategies that remember something per backend (smooth WRR's running weight, peak EWMA's
 * latency) would otherwise pay a `Map` lookup per backend per pick. The shell hands out the same
 * candidate array while membership is unchanged, so the aligned array is rebuilt only when the
 * array object changes, and picks index plain arrays.
 *
 * A backend that was absent from the previous candidate list gets fresh state: it has just
 * joined or returned to health, and what was known about it before no longer describes it.
 *
 * @module
 */

import type { Candidate } from "./types.ts";

/** Per-backend state aligned with the candidate list; see the module doc. */
export interface AlignedState<S> {
  /** States in the same order as `candidates`; cached while the same array comes back. */
  align(candidates: readonly Candidate[]): readonly S[];
  /** State of a current member by name, or undefined for unknown or departed backends. */
  get(name: string): S | undefined;
  /** Drop a backend's state, e.g. when it leaves the pool for good. */
  forget(name: string): void;
}

/** Options for {@linkcode createAlignedState}. */
export interface AlignedStateOptions<S> {
  /** Builds the state of a backend that joins (or returns to) the candidate list. */
  readonly fresh: (candidate: Candidate) => S;
  /**
   * Called after membership changed, with the new aligned states; lets a strategy renormalise
   * (smooth WRR re-centres its running weights). Default: nothing.
   */
  readonly onChange?: (states: readonly S[], candidates: readonly Candidate[]) => void;
}

/**
 * Create a per-backend state table.
 *
 * @example Usage
 * ```ts
 * import { createAlignedState } from "./_aligned_state.ts";
 * const table = createAlignedState({ fresh: () => ({ hits: 0 }) });
 * const list = [{ id: 0, name: "a", weight: 1, inFlight: 0 }];
 * table.align(list)[0].hits++;
 * table.get("a")?.hits; // 1
 * ```
 */
export function createAlignedState<S>(options: AlignedStateOptions<S>): AlignedState<S> {
  const { fresh, onChange } = options;
  // Generation of the last rebuild each member was present in; a gap means it was away.
  const entries = new Map<string, { state: S; generation: number }>();
  let generation = 0;
  let lastList: readonly Candidate[] | undefined;
  let aligned: S[] = [];
  return {
    align(candidates) {
      if (candidates === lastList && aligned.length === candidates.length) return aligned;
      generation++;
      const next = new Array<S>(candidates.length);
      for (let i = 0; i < candidates.length; i++) {
        const candidate = candidates[i];
        let entry = entries.get(candidate.name);
        if (entry === undefined || entry.generation !== generation - 1) {
          entry = { state: fresh(candidate), generation };
          entries.set(candidate.name, entry);
        } else {
          entry.generation = generation;
        }
        next[i] = entry.state;
      }
      // Departed backends get fresh state if they return, so their old state is garbage.
      for (const [name, entry] of entries) {
        if (entry.generation !== generation) entries.delete(name);
      }
      lastList = candidates;
      aligned = next;
      onChange?.(next, candidates);
      return next;
    },
    get(name) {
      return entries.get(name)?.state;
    },
    forget(name) {
      if (!entries.delete(name)) return;
      // Force a rebuild so the aligned array stops referring to the forgotten state.
      lastList = undefined;
    },
  };
}
