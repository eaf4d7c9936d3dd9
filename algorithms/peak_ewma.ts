/**
 * Peak EWMA (Finagle's `PeakEwma`, Linkerd's default balancer): each backend carries a
 * peak-sensitive moving average of its upstream latency, its cost is
 * `ewma × (inFlight + 1) / weight`, and two random candidates are compared (power of two choices).
 *
 * - Peak-sensitive: a response slower than the current estimate replaces it at once; faster ones
 *   pull it down gradually with weight `exp(-Δt / τ)`, τ = `tuning.ewmaDecayMs` (default 10 s).
 *   A backend that slows down loses traffic after its first slow response.
 * - Decay when unobserved: between observations the estimate decays toward zero with the same τ
 *   (as Finagle and tower do), so a backend that lost its traffic because it was slow is retried
 *   after about τ·ln(its cost / the others' cost) and regains traffic if it has recovered. This
 *   is what latency strategies without decay lack (Traefik's `leasttime`, traefik/traefik#12306: a server
 *   penalised by a few slow responses never got traffic again).
 * - New and returning backends start unmeasured at cost 0, so the next draw that includes them
 *   sends them a probe; while that probe is in flight they cost a large penalty, so an unknown
 *   backend gets one request, not a flood, until its first response is measured.
 * - Failures count as latency: a failed attempt (connect error, reset, timeout, 5xx) observes
 *   at least {@linkcode FAILURE_PENALTY_MS} and at least twice the current estimate, so a
 *   backend that fails fast is not mistaken for a fast one and repeated failures escalate.
 *
 * O(1) per pick: two cost evaluations, each one `Math.exp`.
 *
 * @module
 */

import { createAlignedState } from "./_aligned_state.ts";
import { pickOfTwo } from "./_two_choices.ts";
import type { Candidate, Strategy, StrategyOptions } from "./types.ts";

/** Default decay window τ in milliseconds. */
export const DEFAULT_EWMA_DECAY_MS = 10_000;
/** Minimum latency, in milliseconds, recorded for a failed attempt. */
export const FAILURE_PENALTY_MS = 1_000;
/** Ceiling of the estimate, so escalating failures stay finite and decay back in bounded time. */
const MAX_ESTIMATE_MS = 60_000;
/** Cost of an unmeasured backend that already has a probe in flight (Finagle's `Penalty`). */
const UNMEASURED_BUSY_COST = 1e12;

interface Latency {
  /** Estimate in milliseconds at time `at`. */
  ewma: number;
  at: number;
  measured: boolean;
}

/**
 * Create a peak-EWMA strategy.
 *
 * @example Usage
 * ```ts
 * import { createPeakEwma } from "./peak_ewma.ts";
 * const ewma = createPeakEwma({ random: Math.random, now: performance.now });
 * const list = [{ id: 0, name: "a", weight: 1, inFlight: 0 }, { id: 1, name: "b", weight: 1, inFlight: 0 }];
 * ewma.observe?.(list[0], { latencyMs: 250, ok: true });
 * ewma.observe?.(list[1], { latencyMs: 5, ok: true });
 * ewma.pick(list, { hashKey: "" })?.name; // "b"
 * ```
 */
export function createPeakEwma(options: StrategyOptions): Strategy {
  const { random, now } = options;
  const tau = options.tuning?.ewmaDecayMs ?? DEFAULT_EWMA_DECAY_MS;
  const table = createAlignedState<Latency>({ fresh: () => ({ ewma: 0, at: now(), measured: false }) });

  return {
    name: "peak_ewma",
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      // Align even for one candidate: membership changes must be seen to reset returning backends.
      const states = table.align(candidates);
      if (n === 1) return candidates[0];
      const t = now();
      const cost = (i: number) => costOf(candidates[i], states[i], t, tau);
      return candidates[pickOfTwo(n, random, cost)];
    },
    observe(backend, feedback) {
      const state = table.get(backend.name);
      if (state === undefined) return; // not a current member; nothing to steer
      const t = now();
      const current = state.measured ? decayed(state, t, tau) : 0;
      let rtt = Math.max(0, feedback.latencyMs);
      if (!feedback.ok) rtt = Math.max(rtt, FAILURE_PENALTY_MS, 2 * current);
      rtt = Math.min(rtt, MAX_ESTIMATE_MS);
      if (!state.measured || rtt >= current) {
        state.ewma = rtt; // the peak: slower than expected counts in full, at once
      } else {
        const w = Math.exp(-Math.max(0, t - state.at) / tau);
        state.ewma = current + rtt * (1 - w);
      }
      state.at = t;
      state.measured = true;
    },
    forget(name) {
      table.forget(name);
    },
  };
}

/** The estimate at time `t`: decayed toward zero since it was last updated. */
function decayed(state: Latency, t: number, tau: number): number {
  return state.ewma * Math.exp(-Math.max(0, t - state.at) / tau);
}

function costOf(candidate: Candidate, state: Latency, t: number, tau: number): number {
  if (!state.measured) return candidate.inFlight === 0 ? 0 : UNMEASURED_BUSY_COST + candidate.inFlight;
  return decayed(state, t, tau) * (candidate.inFlight + 1) / candidate.weight;
}
