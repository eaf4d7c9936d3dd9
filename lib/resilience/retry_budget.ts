/**
 * The retry budget: retries may add at most `budget` x requests over the last 10 seconds, plus
 * `min_per_second` retries per second, Linkerd's and Finagle's rule.
 *
 * Per-request retry limits alone multiply load on a cluster that is already failing: with
 * `attempts: 2`, every request becomes three when every backend answers 503. A budget shared by
 * all requests bounds the extra load to a fixed share (20% by default) however bad things get,
 * while the per-second floor keeps retries working at low traffic where a ratio would allow none.
 *
 * @module
 */

/** Options for {@linkcode RetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries per request over the window (Linkerd's `retryRatio`). */
  ratio: number;
  /** Retries always allowed per second (Linkerd's `minRetriesPerSecond`). */
  minPerSecond: number;
  /** Monotonic clock in ms. */
  now: () => number;
  /** Window length in ms. @default 10000 */
  windowMs?: number;
}

/** Slices the window is counted in; older slices expire one at a time. */
const SLICES = 10;

/** A sliding-window budget of retries shared by every request. */
export class RetryBudget {
  #ratio: number;
  #minPerSecond: number;
  #now: () => number;
  #windowMs: number;
  #sliceMs: number;
  #requests = new Array<number>(SLICES).fill(0);
  #retries = new Array<number>(SLICES).fill(0);
  /** Index (in slices since the clock's origin) of the newest slice. */
  #current = -Infinity;

  constructor(options: RetryBudgetOptions) {
    this.#ratio = options.ratio;
    this.#minPerSecond = options.minPerSecond;
    this.#now = options.now;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#sliceMs = this.#windowMs / SLICES;
  }

  /** Change ratio and floor (on reload); counts so far are kept. */
  configure(ratio: number, minPerSecond: number): void {
    this.#ratio = ratio;
    this.#minPerSecond = minPerSecond;
  }

  /** Count one client request (not a retry): each one deposits `ratio` retries. */
  recordRequest(): void {
    this.#requests[this.#advance()]++;
  }

  /**
   * Withdraw one retry if the budget allows it.
   *
   * @returns true when the retry may go ahead (and is counted), false when the budget is spent.
   * @example
   * ```ts
   * import { RetryBudget } from "./retry_budget.ts";
   * const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, now: () => 0 });
   * for (let i = 0; i < 10; i++) budget.recordRequest();
   * budget.tryRetry(); // true
   * budget.tryRetry(); // true
   * budget.tryRetry(); // false: 2 retries for 10 requests is the 20% budget
   * ```
   */
  tryRetry(): boolean {
    const slot = this.#advance();
    const sum = (a: number[]) => a.reduce((n, x) => n + x, 0);
    const allowed = this.#ratio * sum(this.#requests) + this.#minPerSecond * (this.#windowMs / 1000);
    if (sum(this.#retries) + 1 > allowed + 1e-9) return false;
    this.#retries[slot]++;
    return true;
  }

  /** Expire slices that left the window; returns the index of the current slice. */
  #advance(): number {
    const index = Math.floor(this.#now() / this.#sliceMs);
    if (index !== this.#current) {
      const stale = Math.min(SLICES, index - this.#current);
      for (let i = 1; i <= stale; i++) {
        const slot = (((index - stale + i) % SLICES) + SLICES) % SLICES;
        this.#requests[slot] = 0;
        this.#retries[slot] = 0;
      }
      this.#current = index;
    }
    return ((index % SLICES) + SLICES) % SLICES;
  }
}
