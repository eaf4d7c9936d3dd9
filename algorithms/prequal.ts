/**
 * Prequal (Wydrowski, Kleinberg, Rumble and Archer, "Load is not what you should balance:
 * Introducing Prequal", NSDI 2024): choose among recent probe answers by the hot-cold
 * lexicographic (HCL) rule.
 *
 * The shell probes backends in the background and keeps a small pool of their answers, each the
 * backend's requests in flight (RIF) and its latency estimate (lib/pool/prober.ts,
 * lib/pool/probe_pool.ts); a candidate's answer is {@linkcode Candidate.probe}. The rule:
 *
 * 1. A probed candidate is **hot** when its RIF is above the `q_rif` quantile (`tuning.qRif`,
 *    default {@linkcode DEFAULT_Q_RIF}, the paper's) of the RIFs in the last {@linkcode RIF_HISTORY}
 *    answers seen, else cold. The history, not only the answers in the pool now, is what lets every
 *    answer be hot: when the pool holds only busy backends, compared with how busy they usually are.
 * 2. If any is cold, take the cold one with the **lowest latency** (ties: lower RIF, then at random).
 * 3. If all are hot, take the one with the **lowest RIF** (ties: lower latency, then at random).
 *
 * Why both signals: RIF alone balances queue lengths but cannot see that one server is slower per
 * request; latency alone herds every request onto the server that was fastest a moment ago. HCL
 * uses latency among servers whose queues are not long, and falls back to queue length only when
 * every queue is long. Because the RIF comes from the backend, it counts requests from every proxy
 * in front of it: that is where it can beat balancers that count only their own requests.
 *
 * Weights are ignored: a backend's capacity shows in its RIF and latency. With no probed candidate
 * (startup, no traffic yet, every answer used up) the pick falls back to two random choices by
 * `(inFlight + 1) / weight`, as `power_of_two` does.
 *
 * O(n) per pick: one pass over the candidates, one over the probed ones (at most the pool's size);
 * the quantile is read from a history kept sorted.
 *
 * @module
 */

import { createAlignedState } from "./_aligned_state.ts";
import { pickOfTwo } from "./_two_choices.ts";
import type { Candidate, ProbeSample, Strategy, StrategyOptions } from "./types.ts";

/** Default RIF quantile above which a probed backend is hot (the paper's Q_RIF). */
export const DEFAULT_Q_RIF = 0.84;

/** Probe answers whose RIFs make up the distribution the hot/cold quantile is taken over. */
export const RIF_HISTORY = 64;

/**
 * The last {@linkcode RIF_HISTORY} RIFs seen, in a ring and kept sorted, so a quantile costs O(1)
 * and a new value O(history) (two binary searches and two short splices).
 */
export interface RifHistory {
  /** Record one answer's RIF, forgetting the oldest when full. */
  add(rif: number): void;
  /** The `q`-quantile of the recorded RIFs; NaN when none. */
  quantile(q: number): number;
}

/**
 * Create an empty history.
 *
 * The quantile interpolates linearly between the closest ranks (numpy's default): position
 * `q × (k − 1)` among the `k` sorted values.
 *
 * @example
 * ```ts
 * import { createRifHistory } from "./prequal.ts";
 * const h = createRifHistory(4);
 * for (const rif of [4, 1, 3, 2, 9]) h.add(rif); // 4 is forgotten
 * h.quantile(0.5); // 2.5
 * ```
 */
export function createRifHistory(size = RIF_HISTORY): RifHistory {
  const ring: number[] = [];
  const sorted: number[] = [];
  let next = 0;
  return {
    add(rif) {
      if (ring.length < size) ring.push(rif);
      else {
        sorted.splice(lowerBound(sorted, ring[next]), 1);
        ring[next] = rif;
      }
      next = (next + 1) % size;
      sorted.splice(lowerBound(sorted, rif), 0, rif);
    },
    quantile(q) {
      const k = sorted.length;
      if (k === 0) return NaN;
      const at = Math.min(1, Math.max(0, q)) * (k - 1);
      const lo = Math.floor(at);
      const hi = Math.min(k - 1, lo + 1);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
    },
  };
}

/** The first index of sorted `values` whose value is not below `x`. */
function lowerBound(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Create a Prequal strategy.
 *
 * @example Usage
 * ```ts
 * import { createPrequal } from "./prequal.ts";
 * const prequal = createPrequal({ random: Math.random, now: performance.now });
 * const list = [
 *   { id: 0, name: "a", weight: 1, inFlight: 0, probe: { rif: 9, latencyMs: 5 } },
 *   { id: 1, name: "b", weight: 1, inFlight: 0, probe: { rif: 2, latencyMs: 40 } },
 *   { id: 2, name: "c", weight: 1, inFlight: 0, probe: { rif: 3, latencyMs: 20 } },
 * ];
 * prequal.pick(list, { hashKey: "" })?.name; // "c": a is hot; of the cold ones c is fastest
 * ```
 */
export function createPrequal(options: StrategyOptions): Strategy {
  const { random } = options;
  const q = options.tuning?.qRif ?? DEFAULT_Q_RIF;
  const history = createRifHistory();
  // The answer each candidate had at the last pick: a new object is a new answer to record.
  const seen = createAlignedState<{ probe: ProbeSample | undefined }>({
    fresh: () => ({ probe: undefined }),
  });
  const probed: number[] = []; // indices of the probed candidates, reused across picks

  return {
    name: "prequal",
    probing: true,
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      const states = seen.align(candidates);
      probed.length = 0;
      for (let i = 0; i < n; i++) {
        const probe = candidates[i].probe;
        if (probe === undefined) continue;
        probed.push(i);
        if (states[i].probe !== probe) {
          states[i].probe = probe;
          history.add(probe.rif);
        }
      }
      if (n === 1) return candidates[0];
      if (probed.length === 0) {
        return candidates[pickOfTwo(n, random, (i) => (candidates[i].inFlight + 1) / candidates[i].weight)];
      }
      const threshold = history.quantile(q);
      let cold: Candidate | undefined;
      let coldTies = 0;
      let hot: Candidate | undefined;
      let hotTies = 0;
      for (const i of probed) {
        const c = candidates[i];
        const p = c.probe!;
        if (p.rif <= threshold) {
          const order = cold === undefined ? -1 : compare(p.latencyMs, p.rif, cold.probe!);
          if (order < 0) [cold, coldTies] = [c, 1];
          else if (order === 0 && random() * ++coldTies < 1) cold = c; // a uniform pick among ties
        } else if (cold === undefined) {
          const order = hot === undefined ? -1 : compare(p.rif, p.latencyMs, hot.probe!, true);
          if (order < 0) [hot, hotTies] = [c, 1];
          else if (order === 0 && random() * ++hotTies < 1) hot = c;
        }
      }
      return cold ?? hot;
    },
    forget(name) {
      seen.forget(name);
    },
  };
}

/**
 * Lexicographic order of `(first, second)` against a probe's (latency, RIF), or with `byRif` its
 * (RIF, latency): negative when smaller.
 */
function compare(first: number, second: number, other: ProbeSample, byRif = false): number {
  const a = byRif ? other.rif : other.latencyMs;
  const b = byRif ? other.latencyMs : other.rif;
  return first !== a ? first - a : second - b;
}
