/**
 * Prequal (Wydrowski, Kleinberg, Rumble and Archer, "Load is not what you should balance:
 * Introducing Prequal", NSDI 2024): choose among recent probe answers by the hot-cold
 * lexicographic (HCL) rule, reading each answer with what this proxy knows for certain.
 *
 * The shell probes backends in the background and keeps a small pool of their answers, each the
 * backend's requests in flight (RIF) and its latency estimate (lib/pool/prober.ts,
 * lib/pool/probe_pool.ts); a candidate's answer is {@linkcode Candidate.probe}. Per candidate:
 *
 * - **RIF now** = the answer's RIF less this proxy's own requests in flight when it was first
 *   seen (the other clients' share, as of the answer) plus this proxy's own in flight now (exact
 *   and live): requests sent since the answer count, and so do those that finished. Divided by
 *   the weight, so a backend configured to take twice the load counts half per request.
 * - **Latency now**: answers report the latency a request meets at the RIF they report (the
 *   server's estimate per RIF, as in the paper), so each backend's answers of the last
 *   {@linkcode LATENCY_MEMORY_MS} make a table by RIF, read at the RIF now (nearest recorded RIF;
 *   the answer's own latency when none is that recent). Picks that add requests see the latency
 *   rise where the backend's queue starts, instead of the latency it had before they came.
 *
 * The rule on those estimates:
 *
 * 1. A probed candidate is **hot** when its RIF is above the `q_rif` quantile (`tuning.qRif`,
 *    default {@linkcode DEFAULT_Q_RIF}) of the RIFs in the last {@linkcode RIF_HISTORY} answers
 *    seen, else cold. The default 1 makes none hot: the latency read at the RIF now already
 *    carries the queue, and the paper's 0.84 sent the slow backend of `one-slow` every request
 *    the busy fast ones were hot for (docs/strategies.md has the measurements).
 * 2. If any is cold, the cold one with the **lowest latency** (ties: lower RIF, then at random).
 * 3. If all are hot, the **lowest RIF** (ties: lower latency, then at random).
 *
 * Why both signals: RIF alone balances queue lengths but cannot see that one server is slower per
 * request; latency alone herds requests onto the server that was fastest a moment ago, which the
 * latency read at the RIF now prevents: each request sent raises the RIF it is read at. Because the
 * answers' RIF comes from the backend, it counts requests from every proxy in front of it: that is
 * where it can beat balancers that count only their own requests.
 *
 * With no probed candidate (startup, no traffic yet, every answer used up) the pick falls back to
 * two random choices by `(inFlight + 1) / weight`, as `power_of_two` does.
 *
 * O(n) per pick: one pass over the candidates, one over the probed ones (at most the pool's size)
 * with a table look-up each (at most {@linkcode RIF_BUCKETS} steps, typically one or two); the
 * quantile is read from a history kept sorted.
 *
 * @module
 */

import { createAlignedState } from "./_aligned_state.ts";
import { createLatencyByRif, createRifHistory, type LatencyByRif } from "./_prequal_estimates.ts";
import { pickOfTwo } from "./_two_choices.ts";
import type { ProbeSample, Strategy, StrategyOptions } from "./types.ts";

export { createLatencyByRif, createRifHistory, RIF_BUCKETS, RIF_HISTORY } from "./_prequal_estimates.ts";
export type { LatencyByRif, RifHistory } from "./_prequal_estimates.ts";

/** Default RIF quantile above which a probed backend is hot: 1, none (the paper's Q_RIF is 0.84). */
export const DEFAULT_Q_RIF = 1;

/** How long a latency an answer reported at some RIF is used for picks at that RIF, ms. */
export const LATENCY_MEMORY_MS = 1_000;

/**
 * Create a Prequal strategy.
 *
 * @example Usage
 * ```ts
 * import { createPrequal } from "./prequal.ts";
 * const prequal = createPrequal({ random: Math.random, now: performance.now, tuning: { qRif: 0.84 } });
 * const list = [
 *   { id: 0, name: "a", weight: 1, inFlight: 0, probe: { rif: 9, latencyMs: 5 } },
 *   { id: 1, name: "b", weight: 1, inFlight: 0, probe: { rif: 2, latencyMs: 40 } },
 *   { id: 2, name: "c", weight: 1, inFlight: 0, probe: { rif: 3, latencyMs: 20 } },
 * ];
 * prequal.pick(list, { hashKey: "" })?.name; // "c": a is hot; of the cold ones c is fastest
 * ```
 */
export function createPrequal(options: StrategyOptions): Strategy {
  const { random, now } = options;
  const q = options.tuning?.qRif ?? DEFAULT_Q_RIF;
  const history = createRifHistory();
  const seen = createAlignedState<Seen>({
    fresh: () => ({ probe: undefined, others: 0, latency: createLatencyByRif() }),
  });
  const probed: number[] = []; // indices of the probed candidates, reused across picks
  const rifs: number[] = []; // their RIF estimate per unit of weight, aligned with `probed`
  const latencies: number[] = []; // their latency estimate at that RIF

  return {
    name: "prequal",
    probing: true,
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      const states = seen.align(candidates);
      const t = now();
      // Filled from the start and read up to `m`: resetting their length would give up their
      // storage, and every pick would allocate it again (measured: 1.2 µs per pick of 10, 12% GC).
      let m = 0;
      for (let i = 0; i < n; i++) {
        const c = candidates[i];
        const probe = c.probe;
        if (probe === undefined) continue;
        const state = states[i];
        if (state.probe !== probe) {
          state.probe = probe;
          state.others = Math.max(0, probe.rif - c.inFlight);
          state.latency.add(probe.rif, probe.latencyMs, t);
          history.add(probe.rif / c.weight);
        }
        const rif = state.others + c.inFlight;
        probed[m] = i;
        rifs[m] = rif / c.weight;
        latencies[m++] = state.latency.at(rif, t - LATENCY_MEMORY_MS) ?? probe.latencyMs;
      }
      if (n === 1) return candidates[0];
      if (m === 0) {
        return candidates[pickOfTwo(n, random, (i) => (candidates[i].inFlight + 1) / candidates[i].weight)];
      }
      return candidates[probed[choose(m, rifs, latencies, history.quantile(q), random)]];
    },
    forget(name) {
      seen.forget(name);
    },
  };
}

/**
 * The index chosen by the hot-cold rule among the first `m` answers with these RIF (per unit of weight) and
 * latency estimates: the cold one (RIF at most `threshold`) with the lowest latency (ties: lower
 * RIF); when all are hot, the lowest RIF (ties: lower latency). Remaining ties: at random.
 */
function choose(
  m: number,
  rifs: readonly number[],
  latencies: readonly number[],
  threshold: number,
  random: () => number,
): number {
  let best = -1;
  let bestCold = false;
  let ties = 0;
  for (let k = 0; k < m; k++) {
    const cold = rifs[k] <= threshold;
    if (bestCold && !cold) continue;
    const order = best < 0 || cold !== bestCold
      ? -1
      : cold
      ? lexicographic(latencies[k], rifs[k], latencies[best], rifs[best])
      : lexicographic(rifs[k], latencies[k], rifs[best], latencies[best]);
    if (order < 0) [best, bestCold, ties] = [k, cold, 1];
    else if (order === 0 && random() * ++ties < 1) best = k; // a uniform pick among ties
  }
  return best;
}

/** Order of `(a1, a2)` against `(b1, b2)`: negative when smaller. */
function lexicographic(a1: number, a2: number, b1: number, b2: number): number {
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}

/** What a pick remembers of a candidate's answer. */
interface Seen {
  /** The answer seen last: a new object is a new answer. */
  probe: ProbeSample | undefined;
  /** Its RIF less this proxy's own requests in flight then: the other clients' share. */
  others: number;
  /** The latencies its answers reported, by RIF. */
  readonly latency: LatencyByRif;
}
