/**
 * What keeps failures and slow answers from reaching clients: the retry and hedging budgets, the
 * running latency percentile hedging waits for, passive outlier detection, slow start, the wait
 * queue, and the failure conditions they match.
 *
 * @module
 */

export { conditionOf, matches } from "./failure.ts";
export type { AttemptOutcome } from "./failure.ts";
export { HedgeBudget } from "./hedge_budget.ts";
export type { HedgeBudgetOptions } from "./hedge_budget.ts";
export { LatencyWindow } from "./latency_window.ts";
export type { LatencyWindowOptions } from "./latency_window.ts";
export { OutlierDetector } from "./outlier.ts";
export type { EjectionTarget, PassiveStatus } from "./outlier.ts";
export { WaitQueue } from "./queue.ts";
export { RetryBudget } from "./retry_budget.ts";
export { rampFactor } from "./slow_start.ts";
export type { SlowStartClock } from "./slow_start.ts";
