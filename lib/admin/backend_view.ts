/**
 * A backend as the admin API shows it: the pool's view joined with what the health checker and
 * the outlier detector keep of it, in snake_case like the config and the metrics.
 *
 * @module
 */

import type { Backend } from "../pool/mod.ts";
import type { Service } from "../service/mod.ts";
import { type AdminTotals, type BackendCounts, countsKey } from "./cluster.ts";

/**
 * The JSON object for one backend of `service` (`undefined` fields are left out); `counts` are
 * its numbers summed over every isolate, when there are several.
 */
export function backendView(service: Service, b: Backend, counts?: BackendCounts): Record<string, unknown> {
  const weight = b.weight;
  const passive = service.outliers.status(b);
  return {
    service: service.name,
    name: b.name,
    url: b.url,
    weight: b.configuredWeight,
    effective_weight: weight === b.configuredWeight ? undefined : +weight.toFixed(3),
    max_connections: Number.isFinite(b.maxConnections) ? b.maxConnections : undefined,
    source: b.source,
    container: b.container,
    state: b.state,
    in_flight: counts?.inFlight ?? b.inFlight,
    requests: counts?.requests ?? b.requests,
    errors: counts?.errors ?? b.errors,
    consecutive_failures: passive.consecutiveFailures,
    ejections: passive.ejections,
    last_health_error: service.health.status(b).lastError || undefined,
    load_report: loadReportView(service, b),
    probe: probeView(service, b),
  };
}

/** The backend's latest `Endpoint-Load-Metrics` report in its ORCA names, with its age; or undefined. */
function loadReportView(service: Service, b: Backend): Record<string, unknown> | undefined {
  const latest = service.loads.get(b);
  if (!latest) return undefined;
  const r = latest.report;
  return {
    cpu_utilization: r.cpuUtilization,
    mem_utilization: r.memUtilization,
    application_utilization: r.applicationUtilization,
    rps_fractional: r.rpsFractional,
    eps: r.eps,
    named_metrics: r.namedMetrics,
    utilization: Object.keys(r.utilization).length > 0 ? r.utilization : undefined,
    age_ms: Math.round(service.loads.ageOf(b) ?? 0),
  };
}

/** The backend's answer in the `prequal` probe pool, or undefined when it has none. */
function probeView(service: Service, b: Backend): Record<string, unknown> | undefined {
  const entry = service.probes.entry(b);
  if (!entry) return undefined;
  return {
    rif: entry.rif,
    latency_ms: +entry.latencyMs.toFixed(3),
    uses_left: entry.usesLeft,
    age_ms: Math.round(service.probes.ageOf(b) ?? 0),
  };
}

/** A service as `GET /api/services` shows it, with `totals` over every isolate when there are several. */
export function serviceView(s: Service, totals?: AdminTotals): Record<string, unknown> {
  return {
    name: s.name,
    strategy: s.balancer.strategy,
    eligible: s.pool.eligible().length,
    backends: s.pool.all().map((b) => backendView(s, b, totals?.backends.get(countsKey(s.name, b.name)))),
  };
}
