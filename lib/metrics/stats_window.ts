/**
 * Windowed request statistics for the status page: per backend, the last minute in one-second
 * buckets, each with a request count, an error count and a small fixed latency histogram.
 *
 * Prometheus answers "what happened" over any range, but the built-in status page must work with
 * no Prometheus at all, so the proxy keeps this small window itself. Memory is fixed: one ring of
 * `seconds` buckets per backend, each bucket {@linkcode LATENCY_BOUNDS_MS}`.length + 1` counters.
 *
 * @module
 */

/**
 * Upper bounds (ms) of the latency histogram buckets: 0.25 ms doubling every two steps up to
 * about 33 s, so an estimated quantile is within about 20% of the true one at any scale.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze(
  Array.from({ length: 35 }, (_, i) => Math.round(0.25 * 2 ** (i / 2) * 1000) / 1000),
);

/** One second of one backend. */
interface Slot {
  second: number;
  count: number;
  errors: number;
  hist: Uint32Array;
}

/** Per-backend numbers over a window. */
export interface WindowStats {
  /** Requests answered in the window. */
  readonly requests: number;
  /** Requests per second over the window. */
  readonly rate: number;
  /** Share of requests answered with 5xx (including the proxy's own 502/503/504), 0..1. */
  readonly errorRatio: number;
  /** Estimated latency quantiles in ms, or null without observations. */
  readonly p50: number | null;
  readonly p99: number | null;
  /** Requests in each complete second of the window, oldest first. */
  readonly perSecond: readonly number[];
  /** Estimated p99 in ms of each complete second, oldest first; null for idle seconds. */
  readonly p99PerSecond: readonly (number | null)[];
}

/**
 * A window's live seconds, as {@linkcode StatsWindow.dump} gives them: plain data that crosses
 * `postMessage`, so the owner isolate can sum every worker's window (`workers` > 1).
 */
export interface WindowDump {
  /** When the window started, on the clock every isolate shares. */
  readonly started: number;
  /** Per backend, its seconds within the window: `[second, count, errors, histogram]`. */
  readonly backends:
    readonly (readonly [string, readonly (readonly [number, number, number, Uint32Array])[]])[];
}

/** Options for {@linkcode StatsWindow}. */
export interface StatsWindowOptions {
  /** Monotonic clock in ms. */
  now: () => number;
  /** Window length in seconds. @default 60 */
  seconds?: number;
}

/**
 * Per-backend ring buffers of per-second buckets, fed by the proxy's request completion path.
 *
 * @example
 * ```ts
 * import { StatsWindow } from "./stats_window.ts";
 * let t = 0;
 * const w = new StatsWindow({ now: () => t });
 * w.countRequest("b1", "round_robin", 200);
 * w.observeDuration("b1", "round_robin", 0.004);
 * t = 1000;
 * w.snapshot().get("b1")?.requests; // 1
 * ```
 */
export class StatsWindow {
  /** Window length in seconds. */
  readonly seconds: number;
  #now: () => number;
  #started: number;
  #rings = new Map<string, Slot[]>();

  constructor(options: StatsWindowOptions) {
    this.seconds = options.seconds ?? 60;
    if (!Number.isInteger(this.seconds) || this.seconds < 2) {
      throw new RangeError(`Cannot keep a stats window of ${this.seconds}s: need an integer >= 2`);
    }
    this.#now = options.now;
    this.#started = options.now();
  }

  /** Count one answered request (same arguments as the Prometheus counter). */
  countRequest(backend: string, _strategy: string, code: number): void {
    const slot = this.#slot(backend);
    slot.count++;
    if (code >= 500 && code <= 599) slot.errors++;
  }

  /** Record one upstream exchange duration in seconds. */
  observeDuration(backend: string, _strategy: string, seconds: number): void {
    this.#slot(backend).hist[bucketOf(seconds * 1000)]++;
  }

  /** Drop a backend that left the pool. */
  forget(backend: string): void {
    this.#rings.delete(backend);
  }

  /** The seconds still inside the window, per backend (for {@linkcode StatsWindow.add} elsewhere). */
  dump(): WindowDump {
    const oldest = Math.floor(this.#now() / 1000) - this.seconds + 1;
    const backends = [...this.#rings].map(([name, ring]) =>
      [
        name,
        ring.filter((slot) => slot.second >= oldest)
          .map((slot) => [slot.second, slot.count, slot.errors, slot.hist.slice()] as const),
      ] as const
    );
    return { started: this.#started, backends };
  }

  /**
   * Add another window's seconds into this one (same clock): counts, errors and histograms of the
   * same backend and second are summed, so quantiles come from the merged histogram, not from
   * averaged quantiles.
   */
  add(dump: WindowDump): void {
    this.#started = Math.min(this.#started, dump.started);
    const oldest = Math.floor(this.#now() / 1000) - this.seconds + 1;
    for (const [name, seconds] of dump.backends) {
      for (const [second, count, errors, hist] of seconds) {
        if (second < oldest) continue;
        const slot = this.#slotAt(name, second);
        if (!slot) continue;
        slot.count += count;
        slot.errors += errors;
        for (let i = 0; i < slot.hist.length; i++) slot.hist[i] += hist[i] ?? 0;
      }
    }
  }

  /**
   * Numbers per backend over the last `seconds` (at most the window length), including the
   * current partial second; per-second series cover complete seconds only.
   */
  snapshot(seconds: number = this.seconds): Map<string, WindowStats> {
    const span = Math.max(1, Math.min(this.seconds, Math.floor(seconds)));
    const now = this.#now();
    const current = Math.floor(now / 1000);
    // The window is (now - span s, now]; early on it is only as long as we have been running.
    const covered = Math.max(1e-3, Math.min(span - 1 + (now / 1000 - current), (now - this.#started) / 1000));
    const out = new Map<string, WindowStats>();
    for (const [name, ring] of this.#rings) {
      const merged = new Uint32Array(LATENCY_BOUNDS_MS.length + 1);
      let requests = 0;
      let errors = 0;
      const perSecond: number[] = [];
      const p99PerSecond: (number | null)[] = [];
      for (let s = current - span + 1; s <= current; s++) {
        const slot = ring[mod(s, ring.length)];
        const live = slot.second === s;
        if (live) {
          requests += slot.count;
          errors += slot.errors;
          for (let i = 0; i < merged.length; i++) merged[i] += slot.hist[i];
        }
        if (s < current) {
          perSecond.push(live ? slot.count : 0);
          p99PerSecond.push(live ? quantile(slot.hist, 0.99) : null);
        }
      }
      out.set(name, {
        requests,
        rate: requests / covered,
        errorRatio: requests > 0 ? errors / requests : 0,
        p50: quantile(merged, 0.5),
        p99: quantile(merged, 0.99),
        perSecond,
        p99PerSecond,
      });
    }
    return out;
  }

  #slot(backend: string): Slot {
    return this.#slotAt(backend, Math.floor(this.#now() / 1000), true)!;
  }

  /**
   * The slot of `second`, reset when it held another second; when it holds a newer one, undefined
   * (or, with `reuse`, reset all the same: the clock went back, and now is what counts).
   */
  #slotAt(backend: string, second: number, reuse = false): Slot | undefined {
    let ring = this.#rings.get(backend);
    if (!ring) {
      ring = Array.from({ length: this.seconds }, () => ({
        second: -Infinity,
        count: 0,
        errors: 0,
        hist: new Uint32Array(LATENCY_BOUNDS_MS.length + 1),
      }));
      this.#rings.set(backend, ring);
    }
    const slot = ring[mod(second, ring.length)];
    if (slot.second > second && !reuse) return undefined;
    if (slot.second !== second) {
      slot.second = second;
      slot.count = 0;
      slot.errors = 0;
      slot.hist.fill(0);
    }
    return slot;
  }
}

function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}

/** Index of the first bucket whose upper bound is >= ms; the last index is the overflow bucket. */
export function bucketOf(ms: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (LATENCY_BOUNDS_MS[mid] >= ms) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Estimate quantile `q` from bucket counts by linear interpolation inside the bucket, the way
 * Prometheus' `histogram_quantile` does; the overflow bucket reports the largest bound.
 *
 * @returns milliseconds, or null when there are no observations.
 */
export function quantile(hist: ArrayLike<number>, q: number): number | null {
  let total = 0;
  for (let i = 0; i < hist.length; i++) total += hist[i];
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    if (seen + hist[i] >= rank && hist[i] > 0) {
      if (i >= LATENCY_BOUNDS_MS.length) return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1];
      const upper = LATENCY_BOUNDS_MS[i];
      return lower + (upper - lower) * ((rank - seen) / hist[i]);
    }
    seen += hist[i];
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
}
