/**
 * What `prequal` (algorithms/prequal.ts) estimates from its probe answers: the distribution of
 * requests in flight (RIF) that decides which backends are hot, and, per backend, the latency its
 * answers reported at each RIF, so a pick can read the latency a request would meet at the RIF
 * the backend has now rather than at the RIF it had when it answered.
 *
 * @module
 */

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
 * import { createRifHistory } from "./_prequal_estimates.ts";
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

/** RIFs tracked separately in a {@linkcode LatencyByRif}; above, they share the last one. */
export const RIF_BUCKETS = 64;

/**
 * The latencies one backend's answers reported, by the RIF they reported with it: Prequal's
 * servers estimate latency per RIF (the demo backend: the median of recent requests that found as
 * many in flight), so the pairs trace how that backend's latency grows with its queue.
 */
export interface LatencyByRif {
  /** Record an answer: at `rif` in flight the backend expected `latencyMs`, as of `at` (ms). */
  add(rif: number, latencyMs: number, at: number): void;
  /**
   * The latency recorded at the RIF nearest `rif` among those recorded since `since` (the higher
   * one when two are as near); undefined when none is that recent.
   */
  at(rif: number, since: number): number | undefined;
}

/**
 * Create an empty table.
 *
 * @example
 * ```ts
 * import { createLatencyByRif } from "./_prequal_estimates.ts";
 * const t = createLatencyByRif();
 * t.add(0, 20, 0);
 * t.add(4, 45, 0);
 * t.at(3, 0); // 45: 4 is nearer than 0
 * ```
 */
export function createLatencyByRif(): LatencyByRif {
  const latency = new Array<number>(RIF_BUCKETS).fill(0);
  const when = new Array<number>(RIF_BUCKETS).fill(-Infinity);
  const bucket = (rif: number) => Math.min(RIF_BUCKETS - 1, Math.max(0, Math.round(rif)));
  // The latest recording: with nothing since `since` a look-up is answered at once, not after a
  // scan of every bucket (measured: 3.1 µs per pick of 10 backends once the table had gone stale).
  let newest = -Infinity;
  return {
    add(rif, latencyMs, at) {
      const i = bucket(rif);
      latency[i] = latencyMs;
      when[i] = at;
      if (at > newest) newest = at;
    },
    at(rif, since) {
      if (newest < since) return undefined;
      const i = bucket(rif);
      for (let d = 0; d < RIF_BUCKETS; d++) {
        if (i + d < RIF_BUCKETS && when[i + d] >= since) return latency[i + d];
        if (d > 0 && i - d >= 0 && when[i - d] >= since) return latency[i - d];
        if (i + d >= RIF_BUCKETS && i - d < 0) return undefined;
      }
      return undefined;
    },
  };
}
