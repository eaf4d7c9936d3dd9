/**
 * Event-loop lag: how late a short repeating timer fires.
 *
 * Every component of a comparison shares a 2-core machine with whatever else runs there. When a
 * thread is descheduled or busy, its timers fire late and every latency it measures grows; the
 * lag says how much of a run's figures could be the machine rather than the strategy.
 *
 * @module
 */

/** Lag of one thread over a run, in milliseconds. */
export interface LagStats {
  /** 99th percentile of timer lateness. */
  readonly p99: number;
  /** Largest timer lateness. */
  readonly max: number;
}

/**
 * Start sampling the lag of the calling thread every `everyMs` until `stop()`.
 *
 * @param everyMs Timer period in milliseconds.
 * @param now Monotonic clock in milliseconds.
 * @returns `stop()`, which ends sampling and returns the figures (zeros with no sample).
 *
 * @example Usage
 * ```ts
 * import { startLagMonitor } from "./lag.ts";
 * const lag = startLagMonitor();
 * await new Promise((r) => setTimeout(r, 100));
 * lag.stop().max; // a few ms on an idle machine
 * ```
 */
export function startLagMonitor(everyMs = 10, now: () => number = () => performance.now()): {
  stop(): LagStats;
} {
  const samples: number[] = [];
  let last = now();
  const timer = setInterval(() => {
    const at = now();
    samples.push(Math.max(0, at - last - everyMs));
    last = at;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      if (samples.length === 0) return { p99: 0, max: 0 };
      samples.sort((a, b) => a - b);
      const p99 = samples[Math.min(samples.length - 1, Math.ceil(samples.length * 0.99) - 1)];
      return { p99, max: samples[samples.length - 1] };
    },
  };
}
