/**
 * The Prometheus metrics of the proxy on the process's one registry, and the one-minute window of
 * per-backend stats behind the status page.
 *
 * @module
 */

export { Metrics } from "./proxy_metrics.ts";
export { ResilienceMetrics } from "./resilience_metrics.ts";
export { StatsWindow } from "./stats_window.ts";
export type { WindowStats } from "./stats_window.ts";
