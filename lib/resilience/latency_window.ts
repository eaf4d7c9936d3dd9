/**
 * A running percentile of recent latencies: what `hedging.delay: p95` hedges after.
 *
 * The window is the last 10 seconds in ten one-second slices, each a small log-scale histogram
 * (the status page's buckets, lib/metrics/stats_window.ts: about 20% resolution at any scale).
 * A merged histogram is kept up to date as samples arrive and slices expire, so reading a
 * percentile scans 36 counters and never the samples: constant memory, constant time, and a
 * service whose latency shifts gets a new percentile within the window. Sliding windows of
 * buckets are what Envoy's and Finagle's latency stats use for the same purpose.
 *
 * @module
 */

import { bucketOf, LATENCY_BOUNDS_MS, quantile } from "../metrics/mod.ts";

/** Options for {@linkcode LatencyWindow}. */
export interface LatencyWindowOptions {
  /** Monotonic clock in ms. */
  readonly now: () => number;
  /** Window length in ms. @default 10000 */
  readonly windowMs?: number;
  /** Fewest samples in the window for a percentile to be given. @default 50 */
  readonly minSamples?: number;
}

/** Slices the window is kept in; the oldest expires as a whole. */
const SLICES = 10;

/**
 * Recent latencies and their percentiles.
 *
 * @example
 * ```ts
 * import { LatencyWindow } from "./latency_window.ts";
 * const w = new LatencyWindow({ now: () => 0, minSamples: 1 });
 * for (let ms = 1; ms <= 100; ms++) w.observe(ms);
 * w.percentile(95); // about 95
 * ```
 */
export class LatencyWindow {
  readonly #now: () => number;
  readonly #sliceMs: number;
  readonly #minSamples: number;
  readonly #slices = Array.from({ length: SLICES }, () => new Uint32Array(LATENCY_BOUNDS_MS.length + 1));
  readonly #merged = new Uint32Array(LATENCY_BOUNDS_MS.length + 1);
  #count = 0;
  /** Index (in slices since the clock's origin) of the newest slice. */
  #current = -Infinity;

  constructor(options: LatencyWindowOptions) {
    this.#now = options.now;
    this.#sliceMs = (options.windowMs ?? 10_000) / SLICES;
    this.#minSamples = options.minSamples ?? 50;
  }

  /** Samples in the window now. */
  get count(): number {
    this.#advance();
    return this.#count;
  }

  /** Record one latency in ms. */
  observe(ms: number): void {
    const slice = this.#slices[this.#advance()];
    const b = bucketOf(ms);
    slice[b]++;
    this.#merged[b]++;
    this.#count++;
  }

  /**
   * The `p`-th percentile (0 < p < 100) of the window in ms, or undefined while it holds fewer
   * than `minSamples` samples: a percentile of a handful of requests is noise.
   */
  percentile(p: number): number | undefined {
    this.#advance();
    if (this.#count < this.#minSamples) return undefined;
    return quantile(this.#merged, p / 100) ?? undefined;
  }

  /** Expire slices that left the window; returns the index of the current slice. */
  #advance(): number {
    const index = Math.floor(this.#now() / this.#sliceMs);
    if (index !== this.#current) {
      const stale = Math.min(SLICES, index - this.#current);
      for (let i = 1; i <= stale; i++) {
        const slice = this.#slices[(((index - stale + i) % SLICES) + SLICES) % SLICES];
        for (let b = 0; b < slice.length; b++) {
          this.#merged[b] -= slice[b];
          this.#count -= slice[b];
        }
        slice.fill(0);
      }
      this.#current = index;
    }
    return ((index % SLICES) + SLICES) % SLICES;
  }
}
