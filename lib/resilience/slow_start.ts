/**
 * Slow start: a backend that becomes healthy gets a reduced effective weight that grows linearly
 * from 10% to 100% of its configured weight over `slow_start`.
 *
 * A backend that was just restarted has cold caches, JIT and connection pools; sending it a full
 * share at once is what makes it fall over again (Envoy's slow start and HAProxy's `slowstart`
 * exist for this). The ramp acts through {@linkcode Backend.weight}, so every strategy that
 * reads weight follows it without knowing about slow start:
 *
 * - weighted strategies send a ramping backend a proportionally smaller share;
 * - load-based strategies that divide load by weight (least connections compares
 *   `inFlight / weight`, peak EWMA compares `cost / weight`) see a ramping backend as
 *   proportionally more loaded, so it gets fewer requests until its weight is full;
 * - strategies that ignore weight (round robin, random, hashing) are not slowed down.
 *
 * @module
 */

/** Share of the configured weight a backend starts its ramp at. */
export const SLOW_START_FLOOR = 0.1;

/**
 * Weight multiplier `elapsedMs` into a ramp of `windowMs`: 0.1 at the start, 1 at the end.
 *
 * @example
 * ```ts
 * import { rampFactor } from "./slow_start.ts";
 * rampFactor(15_000, 30_000); // 0.55
 * rampFactor(0, 0); // 1: slow start off
 * ```
 */
export function rampFactor(elapsedMs: number, windowMs: number): number {
  if (windowMs <= 0 || elapsedMs >= windowMs) return 1;
  if (elapsedMs <= 0) return SLOW_START_FLOOR;
  return SLOW_START_FLOOR + (1 - SLOW_START_FLOOR) * (elapsedMs / windowMs);
}

/** The clock and window every backend of a pool ramps with; the window changes on reload. */
export interface SlowStartClock {
  /** Monotonic clock in milliseconds. */
  readonly now: () => number;
  /** Ramp length in milliseconds; 0 turns slow start off. */
  windowMs: number;
}
