/**
 * The hedging budget: hedges may be at most `max_ratio` of a service's requests over the last
 * 10 seconds. The retry budget's sliding window (lib/resilience/retry_budget.ts) with no
 * per-second floor: each request deposits `max_ratio` of a hedge, each hedge withdraws one.
 *
 * Without a budget a hedging proxy turns a slow cluster into a busier one: when every backend
 * slows down, every request passes its delay and would be sent twice, doubling the load exactly
 * when there is none to spare. Dean and Barroso bound it the same way ("The Tail at Scale", CACM
 * 2013: hedging after the p95 costs about 5% more requests). No floor, unlike retries: a hedge is
 * never needed for a request to succeed, so low traffic gets no allowance beyond the ratio.
 *
 * @module
 */

import { RetryBudget } from "./retry_budget.ts";

/** Options for {@linkcode HedgeBudget}. */
export interface HedgeBudgetOptions {
  /** Most hedges per request, 0 < ratio <= 1. */
  readonly maxRatio: number;
  /** Monotonic clock in ms. */
  readonly now: () => number;
  /** Window length in ms. @default 10000 */
  readonly windowMs?: number;
}

/**
 * Hedges allowed as a share of requests.
 *
 * @example
 * ```ts
 * import { HedgeBudget } from "./hedge_budget.ts";
 * const budget = new HedgeBudget({ maxRatio: 0.05, now: () => 0 });
 * for (let i = 0; i < 20; i++) budget.recordRequest();
 * budget.tryHedge(); // true: 1 of 20 is 5%
 * budget.tryHedge(); // false
 * ```
 */
export class HedgeBudget {
  readonly #window: RetryBudget;

  constructor(options: HedgeBudgetOptions) {
    this.#window = new RetryBudget({
      ratio: options.maxRatio,
      minPerSecond: 0,
      now: options.now,
      windowMs: options.windowMs,
    });
  }

  /** Change the ratio (on reload); counts so far are kept. */
  configure(maxRatio: number): void {
    this.#window.configure(maxRatio, 0);
  }

  /** Count one client request: every request of the service, hedged or not. */
  recordRequest(): void {
    this.#window.recordRequest();
  }

  /** Withdraw one hedge: true when it may be sent (and is counted), false when the budget is spent. */
  tryHedge(): boolean {
    return this.#window.tryRetry();
  }
}
