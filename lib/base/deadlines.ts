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
  /**
   * Owned by {@linkcode Deadlines}: where the entry sits in its list while pending, absent or -1
   * when not. Kept on the entry so that adding and removing one (twice per proxied request)
   * touch no hash table: a `Set` grew and shrank its table under that churn.
   */
  slot?: number;
}

/** A set of pending deadlines served by a single timer. */
export class Deadlines {
  /** Pending entries, unordered; each one's `slot` is its index. */
  readonly #pending: Expiring[] = [];
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedFor = Infinity;

  /** @param now monotonic clock in ms, the one the deadlines are expressed in. */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Number of pending deadlines. */
  get size(): number {
    return this.#pending.length;
  }

  /** Start watching `e` (again, with its current deadline, when it is pending already). */
  add(e: Expiring): void {
    if (e.slot === undefined || e.slot < 0) {
      e.slot = this.#pending.length;
      this.#pending.push(e);
    }
    if (e.deadline < this.#armedFor) this.#arm(e.deadline);
  }

  /** Stop watching `e` (it finished in time); a no-op when it already expired. */
  delete(e: Expiring): void {
    this.#remove(e);
    if (this.#pending.length === 0) this.#disarm();
  }

  /** Forget everything and clear the timer. */
  clear(): void {
    for (const e of this.#pending) e.slot = -1;
    this.#pending.length = 0;
    this.#disarm();
  }

  /** Take `e` out of the list: the last entry moves into its slot. */
  #remove(e: Expiring): void {
    const i = e.slot;
    const pending = this.#pending;
    if (i === undefined || i < 0 || pending[i] !== e) return;
    const last = pending.pop()!;
    if (last !== e) {
      pending[i] = last;
      last.slot = i;
    }
    e.slot = -1;
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
    // Due entries are taken out first and expired after: an expiry may add or delete entries.
    const due: Expiring[] = [];
    const pending = this.#pending;
    for (let i = 0; i < pending.length;) {
      const e = pending[i];
      if (e.deadline <= now) {
        this.#remove(e); // the last entry moves into slot i: look at slot i again
        due.push(e);
      } else i++;
    }
    for (const e of due) e.expire();
    let next = Infinity;
    for (const e of pending) if (e.deadline < next) next = e.deadline;
    if (next !== Infinity && next < this.#armedFor) this.#arm(next);
  }
}
