/**
 * What the admin API reads and waits for when the proxy runs several isolates (`workers` > 1):
 * totals summed over every isolate, one merged `/metrics`, and a way to wait until a change made
 * here (a drain, a strategy switch) has reached every worker. lib/cluster/ implements it; with one
 * isolate there is none, and every call reads the isolate's own objects as before.
 *
 * @module
 */

import type { StatsWindow } from "../metrics/mod.ts";
import type { ServiceSet } from "../service/mod.ts";

/** What one backend's requests add up to across isolates. */
export interface BackendCounts {
  readonly inFlight: number;
  /** Requests completed since start (any outcome). */
  readonly requests: number;
  /** Requests that failed upstream or answered 5xx. */
  readonly errors: number;
}

/** Numbers summed over every isolate, read at one moment. */
export interface AdminTotals {
  /** Per backend, keyed {@linkcode countsKey}; a backend absent here shows its own counts. */
  readonly backends: ReadonlyMap<string, BackendCounts>;
  /** Per service, every isolate's stats window added into one. */
  readonly windows: ReadonlyMap<string, StatsWindow>;
  /** Requests no route matched, every isolate's window added into one. */
  readonly unrouted: StatsWindow | undefined;
}

/** One isolate, as `GET /api/workers` shows it. */
export interface WorkerStatus {
  /** 0 is the isolate that owns health, the admin listener and reloads; 1.. are the others. */
  readonly worker: number;
  /** Requests in flight to backends now. */
  readonly in_flight: number;
  /** Requests to backends completed by this isolate since it started. */
  readonly requests: number;
  /** Times this worker was started again after it ended unexpectedly. */
  readonly restarts: number;
}

/** The cross-isolate side of the admin API. */
export interface AdminCluster {
  /** Every isolate's metrics in one exposition. */
  metrics(): Promise<{ readonly text: string; readonly contentType: string }>;
  /** Counts and windows summed over every isolate. */
  totals(): Promise<AdminTotals>;
  /** Resolve once every worker has the owner's current backend states and strategies. */
  settle(): Promise<void>;
  /** Every isolate's own numbers, worker 0 first. */
  workers(): Promise<WorkerStatus[]>;
}

/** The key of a backend in {@linkcode AdminTotals.backends}. */
export function countsKey(service: string, backend: string): string {
  return `${service}\0${backend}`;
}

/** This isolate's own numbers (`worker` is its number), summed over its services' backends. */
export function isolateStatus(services: ServiceSet, worker: number, restarts = 0): WorkerStatus {
  let inFlight = 0;
  let requests = 0;
  for (const s of services.all()) {
    for (const b of [...s.pool.all(), ...s.pool.retiring()]) {
      inFlight += b.inFlight;
      requests += b.requests;
    }
  }
  return { worker, in_flight: inFlight, requests, restarts };
}
