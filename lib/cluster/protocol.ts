/**
 * The messages between the owner isolate (the first: health checks, the admin listener, reloads,
 * discovery) and each worker isolate (`workers` > 1). Every message is plain data, so it crosses
 * `postMessage` by structured clone; a worker handles its messages one at a time, in order, so a
 * state snapshot sent after a config is always applied after it.
 *
 * Nothing here travels per request: the owner sends when backend state, strategy or config
 * changes, and asks for metrics and totals when the admin listener is asked; a worker sends when
 * it wants a backend ejected or has something to log.
 *
 * @module
 */

import type { ResourceSample } from "../../algorithms/mod.ts";
import type { Level } from "../base/mod.ts";
import type { Config } from "../config/mod.ts";
import type { BackendSpec } from "../docker/mod.ts";
import type { MetricJson, WindowDump } from "../metrics/mod.ts";
import type { BackendState } from "../pool/mod.ts";
import type { WorkerStatus } from "../admin/mod.ts";

/** One backend as the owner sees it: its state, and its spec when discovery added it. */
export interface BackendMirror {
  readonly name: string;
  readonly url: string;
  readonly state: BackendState;
  /** Set for discovered backends, which are not in the config file the worker has. */
  readonly discovered?: BackendSpec;
}

/** One service as the owner sees it. */
export interface ServiceMirror {
  readonly name: string;
  /** The strategy in use (an admin switch is not in the config file). */
  readonly strategy: string;
  readonly backends: readonly BackendMirror[];
}

/** Everything about backends a worker takes from the owner. */
export interface Snapshot {
  readonly services: readonly ServiceMirror[];
}

/** A certificate chain and key, as PEM text, and the certificates chosen by SNI. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
  readonly sni: readonly { readonly cert: string; readonly key: string; readonly names: readonly string[] }[];
}

/** The first message to a worker: what to run and where to listen. */
export interface InitMessage {
  readonly type: "init";
  /** This worker's number, 1 and up (0 is the owner). */
  readonly worker: number;
  /** The owner's config in effect, with the ports it actually bound. */
  readonly config: Config;
  readonly snapshot: Snapshot;
  /** The owner's `performance.timeOrigin`: workers keep time on the owner's clock. */
  readonly timeOrigin: number;
  /** The certificate the owner's TLS listener serves, when there is one. */
  readonly pair?: PemPair;
}

/** Owner to worker. Messages with a `seq` are answered with a {@linkcode Reply} of that `seq`. */
export type ToWorker =
  | InitMessage
  /** Take this state (and, after a reload, this config first). */
  | { readonly type: "sync"; readonly seq: number; readonly config?: Config; readonly snapshot: Snapshot }
  /** Serve new TLS connections with this certificate. */
  | { readonly type: "rotate"; readonly seq: number; readonly pair: PemPair }
  /** Reopen the access log file (SIGUSR1, after logrotate moved it). */
  | { readonly type: "reopen"; readonly seq: number }
  /** Answer with `registry.getMetricsAsJSON()`. */
  | { readonly type: "metrics"; readonly seq: number }
  /** Answer with a {@linkcode WorkerReport}. */
  | { readonly type: "report"; readonly seq: number }
  /** Container samples for `least_resources`, by `service/backend`. */
  | { readonly type: "samples"; readonly samples: readonly (readonly [string, ResourceSample])[] }
  /** Stop accepting, let in-flight requests finish for up to `shutdown_timeout`, then answer. */
  | { readonly type: "shutdown"; readonly seq: number };

/** A worker's own numbers, for the admin API's totals. */
export interface WorkerReport {
  readonly status: WorkerStatus;
  /** `[service, backend, url, in flight, requests, errors]`. */
  readonly backends: readonly (readonly [string, string, string, number, number, number])[];
  /** Each service's stats window. */
  readonly windows: readonly (readonly [string, WindowDump])[];
  readonly unrouted: WindowDump;
}

/** The answer to a message with a `seq`: a value, or why there is none. */
export interface Reply {
  readonly type: "reply";
  readonly seq: number;
  readonly value?: unknown;
  readonly error?: string;
}

/** Worker to owner. */
export type FromWorker =
  /** Listening on every public address: init done. */
  | { readonly type: "ready" }
  /** Init failed (an address could not be bound, ...); the worker stops. */
  | { readonly type: "failed"; readonly error: string }
  | Reply
  /** This backend failed `passive.consecutive_failures` requests in a row here. */
  | { readonly type: "eject"; readonly service: string; readonly backend: string; readonly url: string }
  | {
    readonly type: "log";
    readonly level: Level;
    readonly message: string;
    readonly fields?: Record<string, unknown>;
  };

/** The metrics answer's value. */
export type MetricsValue = readonly MetricJson[];
