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
