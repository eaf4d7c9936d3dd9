/**
 * A counting semaphore with a FIFO wait queue.
 *
 * Bounds how many things run at once (requests a server serves, requests a client keeps in
 * flight) while the rest wait their turn in arrival order, which is how a saturated server queues.
 *
 * @module
 */

/** A counting semaphore; see {@linkcode createSemaphore}. */
export interface Semaphore {
  /** Wait for a permit. Resolves in arrival order; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Take a permit if one is free right now, without queueing; true when taken. */
  tryAcquire(): boolean;
  /** Return a permit, waking the oldest waiter. */
  release(): void;
  /** Permits currently held. */
  readonly active: number;
  /** Callers waiting for a permit. */
  readonly waiting: number;
}

/**
 * Create a semaphore with `permits` permits (`Infinity` for no limit).
 *
 * @param permits How many holders may run at once; a positive integer or Infinity.
 * @throws {RangeError} When `permits` is not a positive integer or Infinity.
 *
 * @example Usage
 * ```ts
 * import { createSemaphore } from "./semaphore.ts";
 * const slots = createSemaphore(2);
 * await slots.acquire();
 * try {
 *   // at most two callers are here at once
 * } finally {
 *   slots.release();
 * }
 * ```
 */
export function createSemaphore(permits: number): Semaphore {
  if (!(permits === Infinity || (Number.isInteger(permits) && permits > 0))) {
    throw new RangeError(`Cannot create a semaphore: permits must be a positive integer, got ${permits}`);
  }
  let active = 0;
  // Waiters in arrival order; an aborted waiter is removed so it never receives a permit.
  const queue: (() => void)[] = [];
  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (active < permits) {
        active++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const at = queue.indexOf(grant);
          if (at >= 0) queue.splice(at, 1);
          reject(signal?.reason);
        };
        const grant = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        queue.push(grant);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    tryAcquire() {
      if (active >= permits) return false;
      active++;
      return true;
    },
    release() {
      const next = queue.shift();
      // The permit passes straight to the next waiter, so `active` is unchanged in that case.
      if (next) next();
      else active--;
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}
