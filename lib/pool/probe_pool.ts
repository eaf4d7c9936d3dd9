/**
 * Prequal's probe pool (Wydrowski et al., "Load is not what you should balance: Introducing
 * Prequal", NSDI 2024, section 3): the recent probe answers a `prequal` pick chooses among.
 *
 * - **Bounded**: at most `size` answers, one per backend (a new answer replaces the backend's
 *   previous one, which no longer describes it); when full, the oldest answer leaves.
 * - **Ageing**: an answer older than `maxAgeMs` is removed, since the load it describes is gone.
 * - **Reuse limit**: each answer routes at most `reuse` requests, then leaves: between probes the
 *   pool must not send everything to the backend that looked best once.
 * - **In-flight compensation**: each request routed on an answer adds one to its RIF, as the paper
 *   does, so consecutive picks see the load they themselves add. (`prequal` itself goes further:
 *   it takes the other clients' share from the answer and adds this proxy's own requests in flight
 *   now, which also drops the ones that finished; algorithms/prequal.ts.)
 *
 * The paper also removes the worst answer at a fixed rate per request; with one answer per backend
 * and the oldest leaving first, a bad answer here is replaced by the backend's next probe or ages
 * out, so that removal is left out.
 *
 * Entries are kept in arrival order (a `Map` re-inserted on replacement), so expiring and evicting
 * look only at the front: O(1) per request unless answers expire. The backend's `probe` field is
 * the entry itself while it is in the pool, which is how strategies read it.
 *
 * @module
 */

import type { Backend } from "./backend.ts";

/** What the pool keeps of one probe answer. */
export interface ProbeEntry {
  /** Requests in flight at the backend when it answered, plus the requests routed on it since. */
  rif: number;
  /** The backend's latency estimate, ms. */
  readonly latencyMs: number;
  /** When the answer arrived (the injected clock, ms). */
  readonly at: number;
  /** Requests this answer may still route. */
  usesLeft: number;
}

/** The pool's limits (from `prequal` in config; `reuse` derived by the prober). */
export interface ProbePoolLimits {
  /** Most answers kept. */
  readonly size: number;
  /** Answers older than this (ms) are removed. */
  readonly maxAgeMs: number;
  /** Requests one answer may route. */
  readonly reuse: number;
}

/** The probe pool of one service; see the module documentation. */
export class ProbePool {
  #entries = new Map<Backend, ProbeEntry>();
  #limits: ProbePoolLimits;
  #now: () => number;

  constructor(limits: ProbePoolLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  /** New limits (reload); a smaller size evicts the oldest answers at once. */
  configure(limits: ProbePoolLimits): void {
    this.#limits = limits;
    this.#evict();
  }

  /** Answers in the pool. */
  get size(): number {
    return this.#entries.size;
  }

  /** The backend's answer in the pool, or undefined. */
  entry(backend: Backend): ProbeEntry | undefined {
    return this.#entries.get(backend);
  }

  /** How old the backend's answer is, in ms; undefined without one. */
  ageOf(backend: Backend): number | undefined {
    const entry = this.#entries.get(backend);
    return entry && Math.max(0, this.#now() - entry.at);
  }

  /** Keep a new answer from `backend`, replacing its previous one. */
  add(backend: Backend, rif: number, latencyMs: number): void {
    this.#entries.delete(backend);
    const entry: ProbeEntry = { rif, latencyMs, at: this.#now(), usesLeft: this.#limits.reuse };
    this.#entries.set(backend, entry);
    backend.probe = entry;
    this.#evict();
  }

  /** Remove the backend's answer (its probe failed, or it left). */
  drop(backend: Backend): void {
    if (this.#entries.delete(backend)) backend.probe = undefined;
  }

  /** Remove answers older than `maxAgeMs`: call before every pick. */
  expire(): void {
    const oldest = this.#now() - this.#limits.maxAgeMs;
    for (const [backend, entry] of this.#entries) {
      if (entry.at >= oldest) return; // arrival order: the rest are younger
      this.drop(backend);
    }
  }

  /** A request was routed to `backend`: count it on its answer, if it has one. */
  use(backend: Backend): void {
    const entry = this.#entries.get(backend);
    if (entry === undefined) return;
    entry.rif++;
    if (--entry.usesLeft <= 0) this.drop(backend);
  }

  /** Remove every answer (the strategy changed away from prequal). */
  clear(): void {
    for (const backend of this.#entries.keys()) backend.probe = undefined;
    this.#entries.clear();
  }

  #evict(): void {
    for (const backend of this.#entries.keys()) {
      if (this.#entries.size <= this.#limits.size) return;
      this.drop(backend);
    }
  }
}
