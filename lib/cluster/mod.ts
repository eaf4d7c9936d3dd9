/**
 * Several isolates as one proxy (`workers` > 1): the owner isolate's {@linkcode WorkerSet} starts
 * and coordinates the workers, and each worker serves its owner's messages
 * ({@linkcode serveOwner}) and mirrors its backend state ({@linkcode applySnapshot}).
 *
 * @module
 */

export { WorkerSet } from "./workers.ts";
export type { WorkerSetOptions } from "./workers.ts";
export { applySnapshot, snapshotOf } from "./snapshot.ts";
export { reportOf, TotalsMerge } from "./totals.ts";
export { MirrorStats, ownerLogger, serveOwner } from "./worker_side.ts";
export type { WorkerHandlers, WorkerScope } from "./worker_side.ts";
export type {
  BackendMirror,
  FromWorker,
  InitMessage,
  PemPair,
  ServiceMirror,
  Snapshot,
  ToWorker,
  WorkerReport,
} from "./protocol.ts";
