/**
 * Periodic progress reports of a running load.
 *
 * @module
 */

import type { Recorder } from "./recorder.ts";

/** Progress of a running load, as passed to `onProgress`. */
export interface Progress {
  readonly elapsedMs: number;
  readonly sent: number;
  readonly completed: number;
  /** Failures plus 5xx responses. */
  readonly errors: number;
  /** Responses per second since the previous report. */
  readonly rate: number;
  /** p99 latency so far in milliseconds. */
  readonly p99Ms: number;
}

/**
 * Call `onProgress` every `everyMs` with counts from `recorder`, until `stop()`.
 *
 * @param recorder The run's recorder.
 * @param onProgress Receiver; when undefined nothing is scheduled.
 * @param everyMs Interval in milliseconds.
 * @param now Monotonic clock in milliseconds; elapsed time counts from this call.
 */
export function startProgress(
  recorder: Recorder,
  onProgress: ((progress: Progress) => void) | undefined,
  everyMs: number,
  now: () => number,
): { stop(): void } {
  if (!onProgress) return { stop() {} };
  const start = now();
  let last = { at: start, completed: 0 };
  const timer = setInterval(() => {
    const counts = recorder.counts();
    const at = now();
    const rate = ((counts.completed - last.completed) * 1_000) / Math.max(1, at - last.at);
    last = { at, completed: counts.completed };
    onProgress({
      elapsedMs: at - start,
      sent: counts.sent,
      completed: counts.completed,
      errors: counts.failed + counts.serverErrors,
      rate,
      p99Ms: recorder.p99(),
    });
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}
