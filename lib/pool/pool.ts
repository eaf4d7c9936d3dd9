/**
 * The backend pool: membership, health state and the eligible list handed to strategies.
 *
 * The eligible array is rebuilt only when membership, state or a backend's position relative to
 * its `max_connections` changes, and is otherwise the same object on every call, so strategies
 * may cache derived structures (a Maglev table, a heap) by array identity and rebuild them only
 * when the set really changed. In-flight counting goes through {@linkcode Pool.take} and
 * {@linkcode Pool.give} so crossing a limit is noticed in the same synchronous step.
 *
 * @module
 */

import { Backend, type BackendSource, type BackendState } from "./backend.ts";
import type { BackendConfig } from "../config/mod.ts";
import type { EjectionTarget, SlowStartClock } from "../resilience/mod.ts";

/** Called after a backend's state changes (for logging and metrics). */
export type StateListener = (backend: Backend, from: BackendState, to: BackendState) => void;

/** Options for {@linkcode Pool}. */
export interface PoolOptions {
  /** Slow-start clock shared by every backend. @default slow start off */
  slowStart?: SlowStartClock;
}

/** Membership and eligibility of backends. */
export class Pool {
  #byName = new Map<string, Backend>();
  #all: Backend[] = [];
  #members: Backend[] = [];
  #eligible: Backend[] = [];
  #healthy = 0;
  #retiring = new Set<Backend>();
  #nextId = 0;
  #listeners: StateListener[] = [];
  #capacityListeners: (() => void)[] = [];
  #retiredListeners: ((backend: Backend) => void)[] = [];
  #slowStart: SlowStartClock | undefined;
  #started = false;

  /** Build a pool from config, all backends in state `unknown`. */
  constructor(backends: readonly BackendConfig[] = [], options: PoolOptions = {}) {
    this.#slowStart = options.slowStart;
    for (const b of backends) this.add(b);
  }

  /** Subscribe to state changes. */
  onStateChange(listener: StateListener): void {
    this.#listeners.push(listener);
  }

  /** Subscribe to "a backend may take a request again" (for the wait queue). */
  onCapacity(listener: () => void): void {
    this.#capacityListeners.push(listener);
  }

  /** Subscribe to "a removed backend finished its last request". */
  onRetired(listener: (backend: Backend) => void): void {
    this.#retiredListeners.push(listener);
  }

  /**
   * Mark the end of startup: from now on, a backend that becomes healthy from `unknown` (one
   * added by a reload) ramps up with slow start like one that recovers. Backends that pass the
   * very first round at process start get their full weight at once: there is nobody to protect
   * them from, every backend starts equal.
   */
  markStarted(): void {
    this.#started = true;
  }

  /** Add a backend (state `unknown`: not eligible until a health check passes). */
  add(spec: BackendConfig, source: BackendSource = "config"): Backend {
    if (this.#byName.has(spec.name)) throw new RangeError(`Cannot add backend "${spec.name}": name in use`);
    const b = new Backend(this.#nextId++, spec.name, spec.url, spec.weight, {
      maxConnections: spec.maxConnections,
      slowStart: this.#slowStart,
      source,
      container: spec.container,
      tls: spec.tls,
    });
    this.#byName.set(b.name, b);
    this.#all = [...this.#all, b];
    return b;
  }

  /** Apply a changed weight, connection limit or container to a kept backend. */
  update(backend: Backend, spec: BackendConfig): void {
    backend.configuredWeight = spec.weight;
    backend.container = spec.container;
    const limit = spec.maxConnections ?? Infinity;
    if (limit === backend.maxConnections) return;
    const wasAtLimit = backend.atLimit;
    backend.maxConnections = limit;
    if (wasAtLimit !== backend.atLimit) this.#rebuild();
  }

  /**
   * Remove a backend from the pool at once: it takes no new request. When requests are still in
   * flight it stays `draining` in {@linkcode Pool.retiring} until the last one ends; either way
   * retired listeners hear about it exactly once.
   */
  remove(name: string): Backend | undefined {
    const b = this.#byName.get(name);
    if (!b) return undefined;
    this.#byName.delete(name);
    this.#all = this.#all.filter((x) => x !== b);
    const from = b.state;
    b.state = "draining";
    if (from !== "unknown") this.#members = this.#members.filter((x) => x !== b);
    this.#rebuild();
    if (from !== "draining") { for (const l of this.#listeners) l(b, from, "draining"); }
    if (b.inFlight > 0) this.#retiring.add(b);
    else for (const l of this.#retiredListeners) l(b);
    return b;
  }

  /** Backend by name. */
  get(name: string): Backend | undefined {
    return this.#byName.get(name);
  }

  /** Every backend, in id order. */
  all(): readonly Backend[] {
    return this.#all;
  }

  /**
   * The membership consistent hashing builds its table from: every backend that has had its
   * first health check, whatever its state now, in id order; the same array until that set
   * changes. A backend just added is left out until its first check, so keys that will be its
   * own stay where they are meanwhile instead of moving twice.
   */
  members(): readonly Backend[] {
    return this.#members;
  }

  /**
   * True when `backend` may take a new request: healthy and below its connection limit (a removed
   * backend is `draining`). The test {@linkcode Pool.eligible} filters by.
   */
  isEligible(backend: Backend): boolean {
    return backend.state === "healthy" && !backend.atLimit;
  }

  /** Removed backends still finishing requests. */
  retiring(): readonly Backend[] {
    return [...this.#retiring];
  }

  /** Backends that may take a new request, in id order; same array until something changes. */
  eligible(): readonly Backend[] {
    return this.#eligible;
  }

  /** True when some backend is healthy, even if every healthy one is at its connection limit. */
  hasHealthy(): boolean {
    return this.#healthy > 0;
  }

  /** Count a request in flight on `backend` (after a pick). */
  take(backend: Backend): void {
    backend.inFlight++;
    if (backend.inFlight === backend.maxConnections && backend.state === "healthy") this.#rebuild();
  }

  /** Count a request out of flight; frees a slot and retires removed backends. */
  give(backend: Backend): void {
    backend.inFlight--;
    if (backend.inFlight === backend.maxConnections - 1 && backend.state === "healthy") this.#rebuild();
    if (backend.inFlight === 0 && this.#retiring.delete(backend)) {
      for (const l of this.#retiredListeners) l(backend);
    }
  }

  /** Move a backend to a new state, notifying listeners when it actually changes. */
  setState(backend: Backend, to: BackendState): void {
    const from = backend.state;
    if (from === to || !this.#byName.has(backend.name)) return;
    backend.state = to;
    if (from === "unknown" || to === "unknown") {
      this.#members = this.#all.filter((b) => b.state !== "unknown");
    }
    if (to === "healthy" && (from !== "unknown" || this.#started)) backend.startRamp();
    this.#rebuild();
    for (const l of this.#listeners) l(backend, from, to);
  }

  #rebuild(): void {
    const before = this.#eligible.length;
    this.#eligible = this.#all.filter((b) => this.isEligible(b));
    this.#healthy = this.#all.reduce((n, b) => n + (b.state === "healthy" ? 1 : 0), 0);
    if (this.#eligible.length > before) { for (const l of this.#capacityListeners) l(); }
  }
}

/**
 * The pool as the outlier detector sees it: a healthy backend may be ejected, and an ejected one
 * returns to healthy when its time is up, unless something else (a failing health check, a
 * drain) moved it meanwhile.
 */
export function ejectionTarget(pool: Pool): EjectionTarget<Backend> {
  return {
    members: () => pool.all(),
    serving: (b) => b.state === "healthy",
    ejected: (b) => b.state === "ejected",
    eject: (b) => pool.setState(b, "ejected"),
    restore: (b) => {
      if (b.state === "ejected") pool.setState(b, "healthy");
    },
  };
}
