/**
 * The demo backend: an HTTP server whose latency, CPU cost, capacity and error rate are chosen.
 *
 * @module
 */

export type { RunningBackend } from "./backend.ts";
export { capacityRate, startSpecBackend } from "./spec.ts";
export type { BackendSpec } from "./spec.ts";
