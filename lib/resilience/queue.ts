/**
 * A bounded FIFO of requests waiting for a free connection slot, used when every healthy backend
 * is at its `max_connections`.
 *
 * Waiting briefly turns a burst into latency instead of errors; the bound (`queue.max`) and the
 * deadline (`queue.timeout`) keep a sustained overload from piling up memory and from holding
 * clients longer than they would wait anyway. Each freed slot wakes one waiter, oldest first.
 *
 * @module
 */

/** Why a wait ended. */
export type WaitOutcome = "ready" | "timeout" | "full" | "aborted";

interface Waiter {
  resolve(outcome: WaitOutcome): void;
}

/** The wait queue. Limits can change on reload; waiters keep their deadline. */
export class WaitQueue {
  /** Most waiters at once. */
  max: number;
  #waiters: Waiter[] = [];

  constructor(max: number) {
    this.max = max;
  }

  /** Requests waiting now. */
  get length(): number {
    return this.#waiters.length;
  }

  /**
   * Wait for a slot until `deadline` (ms from now), the client leaving (`signal`), or a wake-up.
   * A full queue answers `full` at once.
   *
   * @param front re-queue at the head: a woken waiter that lost its slot keeps its place.
   */
  wait(signal: AbortSignal, timeoutMs: number, front = false): Promise<WaitOutcome> {
    if (signal.aborted) return Promise.resolve("aborted");
    if (!front && this.#waiters.length >= this.max) return Promise.resolve("full");
    if (timeoutMs <= 0) return Promise.resolve("timeout");
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve: (outcome) => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          resolve(outcome);
        },
      };
      const leave = (outcome: WaitOutcome) => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        waiter.resolve(outcome);
      };
      const onAbort = () => leave("aborted");
      const timer = setTimeout(() => leave("timeout"), timeoutMs);
      signal.addEventListener("abort", onAbort, { once: true });
      if (front) this.#waiters.unshift(waiter);
      else this.#waiters.push(waiter);
    });
  }

  /** Wake the oldest waiter; returns false when nobody waits. */
  wakeOne(): boolean {
    const waiter = this.#waiters.shift();
    waiter?.resolve("ready");
    return waiter !== undefined;
  }

  /** End every wait with `outcome` (shutdown). */
  clear(outcome: WaitOutcome = "timeout"): void {
    for (const w of this.#waiters.splice(0)) w.resolve(outcome);
  }
}
