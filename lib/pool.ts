/**
 * The backend pool: membership, health state and the eligible list handed to strategies.
 *
 * The eligible array is rebuilt only when membership or state changes and is otherwise the same
 * object on every call, so strategies may cache derived structures (a Maglev table, a heap) by
 * array identity and rebuild them only when the set really changed.
 *
 * @module
 */

import { Backend, type BackendState } from "./backend.ts";
import type { BackendConfig } from "./config.ts";

/** Called after a backend's state changes (for logging and metrics). */
export type StateListener = (backend: Backend, from: BackendState, to: BackendState) => void;

/** Membership and eligibility of backends. */
export class Pool {
  #byName = new Map<string, Backend>();
  #all: Backend[] = [];
  #eligible: Backend[] = [];
  #nextId = 0;
  #listeners: StateListener[] = [];

  /** Build a pool from config, all backends in state `unknown`. */
  constructor(backends: readonly BackendConfig[] = []) {
    for (const b of backends) this.add(b);
  }

  /** Subscribe to state changes. */
  onStateChange(listener: StateListener): void {
    this.#listeners.push(listener);
  }

  /** Add a backend (state `unknown`: not eligible until a health check passes). */
  add(spec: BackendConfig): Backend {
    if (this.#byName.has(spec.name)) throw new RangeError(`Cannot add backend "${spec.name}": name in use`);
    const b = new Backend(this.#nextId++, spec.name, spec.url, spec.weight);
    this.#byName.set(b.name, b);
    this.#all.push(b);
    return b;
  }

  /** Remove a backend from the pool at once; in-flight requests keep their reference. */
  remove(name: string): Backend | undefined {
    const b = this.#byName.get(name);
    if (!b) return undefined;
    this.#byName.delete(name);
    this.#all = this.#all.filter((x) => x !== b);
    this.#rebuild();
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

  /** Backends that may take a new request, in id order; same array until something changes. */
  eligible(): readonly Backend[] {
    return this.#eligible;
  }

  /** Move a backend to a new state, notifying listeners when it actually changes. */
  setState(backend: Backend, to: BackendState): void {
    const from = backend.state;
    if (from === to || !this.#byName.has(backend.name)) return;
    backend.state = to;
    this.#rebuild();
    for (const l of this.#listeners) l(backend, from, to);
  }

  #rebuild(): void {
    this.#eligible = this.#all.filter((b) => b.state === "healthy");
  }
}
