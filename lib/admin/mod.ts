/**
 * The admin listener's handler: `/metrics`, health and readiness, the JSON API and the status page.
 *
 * @module
 */

export { createAdminHandler } from "./api.ts";
export { countsKey, isolateStatus } from "./cluster.ts";
export type { AdminCluster, AdminTotals, BackendCounts, WorkerStatus } from "./cluster.ts";
export type { BackendStatus, ServiceStatus, StatusReport, StrategyChangeStatus } from "./status_report.ts";
