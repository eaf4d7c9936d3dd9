/**
 * The open-loop load generator with coordinated-omission-corrected latency.
 *
 * @module
 */

export { runLoad } from "./load.ts";
export type { Progress, Summary } from "./load.ts";
export { formatProgress } from "./report.ts";
