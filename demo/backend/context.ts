/**
 * What a running demo backend's request handling works with: its runtime state and the context
 * the handler and the admin endpoints share.
 *
 * Kept apart from `handler.ts` so `admin.ts`, which the handler calls, can name these types
 * without importing the handler back (an import cycle).
 *
 * @module
 */

import type { Semaphore } from "../shared/mod.ts";
import type { LoadTracker } from "./load_report.ts";
import type { ActiveProfile } from "./profile.ts";

/** Mutable state of one running backend, shared by the handler and its admin endpoints. */
export interface BackendState {
  /** Whether `/health` answers 200 (true) or 503. */
  healthy: boolean;
  /** Responses are held until this time (clock of `now`); 0 when not paused. */
  pausedUntil: number;
  /** Latency, CPU and error settings in force. */
  active: ActiveProfile;
}

/** What the handler needs from the backend it serves. */
export interface HandlerContext {
  /** Name reported in responses. */
  readonly name: string;
  /** Port the backend listens on. */
  readonly port: number;
  /** Host name of the machine or container. */
  readonly hostname: string;
  /** Concurrency limit for served endpoints. */
  readonly slots: Semaphore;
  /** Uniform random source (seeded). */
  readonly random: () => number;
  /** Monotonic clock in milliseconds. */
  readonly now: () => number;
  /** CPU time used by the process in milliseconds; the `cpu` cost is measured on it. */
  readonly cpuTime: () => number;
  /** Aborts when the backend closes, releasing every waiting request. */
  readonly closing: AbortSignal;
  /** Runtime state. */
  readonly state: BackendState;
  /** Requests in flight, latency by in-flight count and CPU, reported in every response. */
  readonly load: LoadTracker;
}
