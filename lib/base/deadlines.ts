/**
 * Many deadlines on one timer.
 *
 * Every upstream request has a deadline for its response headers. A timer per request costs a
 * create and a cancel each time (about 2.5 µs in Deno, a visible share of a proxied request),
 * and nearly all of them are cancelled. Here one timer is armed for the earliest deadline; when
 * it fires it expires what is due and re-arms for the next. Under load the timer is re-armed about
 * once per timeout period instead of twice per request; with nothing pending it is cleared, so an
 * idle process holds no timer.
 *
 * @module
 */

/** Something with a deadline; `expire` is called once if it is still pending when that passes. */
export interface Expiring {
  readonly deadline: number;
  expire(): void;
}

/** A set of pending deadlines served by a single timer. */
export class Deadlines {
  readonly #pending = new Set<Expiring>();
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;

  /** @param now monotonic clock in ms, the one the deadlines are expressed in. */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Number of pending deadlines. */
  get size(): number {
    return this.#pending.size;
  }

  /** Start watching `e`. */
  add(e: Expiring): void {
    this.#pending.add(e);
    if (e.deadline < this.#armedFor) this.#arm(e.deadline);
  }

  /** Stop watching `e` (it finished in time); a no-op when it already expired. */
  delete(e: Expiring): void {
    this.#pending.delete(e);
    if (this.#pending.size === 0) this.#disarm();
  }

  /** Forget everything and clear the timer. */
  clear(): void {
    this.#pending.clear();
    this.#disarm();
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedFor = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - this.#now()));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = this.#now();
    let next = Infinity;
    for (const e of this.#pending) {
      if (e.deadline <= now) {
        this.#pending.delete(e);
        e.expire();
      } else if (e.deadline < next) next = e.deadline;
    }
    if (next !== Infinity && next < this.#armedFor) this.#arm(next);
  }
}
