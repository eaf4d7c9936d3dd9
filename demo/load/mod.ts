/**
 * The open-loop load generator with coordinated-omission-corrected latency.
 *
 * @module
 */

export { runLoad } from "./load.ts";
export type { Progress } from "./load.ts";
export { formatProgress } from "./report.ts";
export type { Summary } from "./summary.ts";
