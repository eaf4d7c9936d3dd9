/**
 * What keeps failures from reaching clients: the retry budget, passive outlier detection, slow
 * start, the wait queue, and the failure conditions they match.
 *
 * @module
 */

export { conditionOf, matches } from "./failure.ts";
export type { AttemptOutcome } from "./failure.ts";
export { OutlierDetector } from "./outlier.ts";
export type { EjectionTarget, PassiveStatus } from "./outlier.ts";
export { WaitQueue } from "./queue.ts";
export { RetryBudget } from "./retry_budget.ts";
export { rampFactor } from "./slow_start.ts";
export type { SlowStartClock } from "./slow_start.ts";
