/**
 * Capped exponential backoff for reconnecting to the Docker Engine.
 *
 * Retrying at a fixed short interval would hammer a daemon that is restarting; growing the wait
 * and capping it keeps recovery quick after a blip and bounded after a long outage.
 *
 * @module
 */

/** Backoff tuning; every field has a default. */
export interface BackoffOptions {
  /** Wait before the first retry, in milliseconds. @default 250 */
  readonly initialMs?: number;
  /** Longest wait between retries, in milliseconds. @default 30000 */
  readonly maxMs?: number;
}

/**
 * Wait before retry number `attempt` (1 for the first retry): `initialMs * 2^(attempt-1)`, capped.
 *
 * @example
 * ```ts
 * backoffDelay(1); // 250
 * backoffDelay(4); // 2000
 * backoffDelay(50); // 30000
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initialMs = options.initialMs ?? 250;
  const maxMs = options.maxMs ?? 30_000;
  const exponent = Math.max(0, attempt - 1);
  // 2^exponent overflows to Infinity for huge attempts; min() still caps it.
  return Math.min(maxMs, initialMs * 2 ** exponent);
}

/**
 * Resolve after `ms` milliseconds, or as soon as `signal` aborts (never rejects), so a closing
 * collector does not wait out a long backoff.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
