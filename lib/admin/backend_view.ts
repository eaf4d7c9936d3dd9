/**
 * A backend as `GET /api/backends` shows it: the pool's view joined with what the health checker
 * and the outlier detector keep of it, in snake_case like the config and the metrics.
 *
 * @module
 */

import type { Backend, HealthChecker } from "../pool/mod.ts";
import type { OutlierDetector } from "../resilience/mod.ts";

/** Where a backend's health and passive-failure history are kept. */
export interface BackendSources {
  readonly health: HealthChecker;
  readonly outliers: OutlierDetector<Backend>;
}

/** The JSON object for one backend (`undefined` fields are left out by `JSON.stringify`). */
export function backendView(b: Backend, sources: BackendSources): Record<string, unknown> {
  const weight = b.weight;
  const passive = sources.outliers.status(b);
  return {
    name: b.name,
    url: b.url,
    weight: b.configuredWeight,
    effective_weight: weight === b.configuredWeight ? undefined : +weight.toFixed(3),
    max_connections: Number.isFinite(b.maxConnections) ? b.maxConnections : undefined,
    source: b.source,
    container: b.container,
    state: b.state,
    in_flight: b.inFlight,
    requests: b.requests,
    errors: b.errors,
    consecutive_failures: passive.consecutiveFailures,
    ejections: passive.ejections,
    last_health_error: sources.health.status(b).lastError || undefined,
  };
}
