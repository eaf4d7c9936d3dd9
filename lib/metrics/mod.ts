/**
 * The Prometheus metrics of the proxy on the process's one registry, each service's views of
 * them, and the one-minute window of per-backend stats behind the status page.
 *
 * @module
 */

export { Metrics, NONE, protocolLabel, ServiceMetrics } from "./proxy_metrics.ts";
export type { PoolView, RequestObserver, UpstreamErrorKind } from "./proxy_metrics.ts";
export { ResilienceMetrics, ServiceResilienceMetrics } from "./resilience_metrics.ts";
export { bucketOf, LATENCY_BOUNDS_MS, quantile, StatsWindow } from "./stats_window.ts";
export type { WindowDump, WindowStats } from "./stats_window.ts";
export { MergedMetrics } from "./merge.ts";
export type { MergedMetricsOptions, MetricJson } from "./merge.ts";
