/**
 * How late timers fire while a test runs: the machine's share of a measured time.
 *
 * A test that times a sleep, a queue or a stall gets the behaviour plus whatever the machine
 * added: on a busy machine every timer fires late. A probe runs a short timer back to back in the
 * same process and records how late each one fired, so an upper bound can be the behaviour plus
 * the lateness measured meanwhile, instead of the behaviour plus a fast machine's margin.
 *
 * @example Usage
 * ```ts
 * import { startLagProbe } from "./lag.ts";
 * const lag = startLagProbe();
 * // ... time something that sleeps 40 ms ...
 * const { maxMs } = lag.stop(); // then allow 40 + maxMs
 * ```
 *
 * @module
 */

/** Timer lateness seen by a probe, in milliseconds. */
export interface LagStats {
  /** The latest any probe timer fired past its due time. */
  readonly maxMs: number;
  /** The 99th percentile of the same. */
  readonly p99Ms: number;
  /** Probe timers that fired. */
  readonly samples: number;
}

/** A running probe. */
export interface LagProbe {
  /** Stop probing (the pending timer is cleared) and report. */
  stop(): LagStats;
}

/**
 * Start probing: a timer of `intervalMs`, rearmed as soon as it fires.
 *
 * A stall of the event loop delays every timer due during it, so the probe timer due next fires
 * late by the stall less at most `intervalMs`: allow `maxMs + intervalMs` for any one timer.
 *
 * @param intervalMs the probe timer's delay. @default 5
 */
export function startLagProbe(intervalMs = 5): LagProbe {
  const late: number[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    const due = performance.now() + intervalMs;
    timer = setTimeout(() => {
      late.push(Math.max(0, performance.now() - due));
      arm();
    }, intervalMs);
  };
  arm();
  return {
    stop() {
      clearTimeout(timer);
      const sorted = [...late].sort((a, b) => a - b);
      return {
        maxMs: sorted.at(-1) ?? 0,
        p99Ms: sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)] ?? 0,
        samples: sorted.length,
      };
    },
  };
}
