/**
 * Adding and removing backends at run time: the one path shared by hot reload and Docker
 * discovery, so a backend joins and leaves the same way whoever asked.
 *
 * Joining: the backend enters the pool `unknown` (not eligible), its metric series are created,
 * it is probed at once and gets traffic only after that probe passes (then ramps up with slow
 * start), and its container's resource stats are followed. Leaving: it takes no new request,
 * finishes the ones in flight (its series go when the last one ends, see `Pool.onRetired`), the
 * strategy forgets it and its stats stop.
 *
 * @module
 */

import type { Backend, BackendSource } from "./backend.ts";
import type { Balancer } from "./balancer.ts";
import type { BackendConfig } from "../config/mod.ts";
import type { HealthChecker } from "./health.ts";
import type { ServiceLoadMetrics, ServiceMetrics, ServiceResilienceMetrics } from "../metrics/mod.ts";
import type { Pool } from "./pool.ts";
import type { ProbePool } from "./probe_pool.ts";

/** Follows container resource stats per backend (the Docker stats collector). */
export interface ContainerTracker {
  /** Follow `container` for `backend`, replacing any container followed before. */
  track(backend: string, container: string): void;
  /** Stop following the backend's container. */
  untrack(backend: string): void;
}

/** The parts of a running proxy that membership changes touch. */
export interface MembershipTarget {
  readonly pool: Pool;
  readonly balancer: Balancer;
  readonly health: HealthChecker;
  readonly metrics: ServiceMetrics;
  readonly resilience: ServiceResilienceMetrics;
  /** Where container stats are followed; absent: nothing is tracked. */
  readonly containers?: ContainerTracker;
  /** Load-report and probe metrics; absent: none are kept. */
  readonly loadMetrics?: ServiceLoadMetrics;
  /** The probe pool (`prequal`); a backend that leaves loses its answer. */
  readonly probes?: ProbePool;
}

/**
 * Add a backend: `unknown` until its first probe, which starts at once.
 *
 * @throws {RangeError} when the name is in use (callers check first).
 */
export function joinBackend(t: MembershipTarget, spec: BackendConfig, source: BackendSource): Backend {
  const b = t.pool.add(spec, source);
  t.metrics.addBackend(b.name, t.balancer.strategy);
  t.resilience.addBackend(b.name);
  t.loadMetrics?.addBackend(b.name);
  if (b.container !== undefined) t.containers?.track(b.name, b.container);
  t.health.watch(b, 0);
  return b;
}

/** Apply a new weight, connection limit or container to a backend kept under the same URL. */
export function updateBackend(t: MembershipTarget, backend: Backend, spec: BackendConfig): void {
  const before = backend.container;
  t.pool.update(backend, spec);
  if (backend.container === before) return;
  if (backend.container === undefined) t.containers?.untrack(backend.name);
  else t.containers?.track(backend.name, backend.container);
}

/**
 * True when `spec` names the same origin as `backend`: same URL and same TLS settings. Anything
 * else replaces the backend (leave, then join under the same name): a new origin is probed
 * before it takes traffic, and connections pooled for the old one are never reused.
 */
export function sameOrigin(backend: Backend, spec: BackendConfig): boolean {
  return backend.url === spec.url && backend.sameTls(spec.tls);
}

/** True when `spec` would change anything on `backend` (same origin assumed, see {@linkcode sameOrigin}). */
export function differs(backend: Backend, spec: BackendConfig): boolean {
  return backend.configuredWeight !== spec.weight ||
    backend.maxConnections !== (spec.maxConnections ?? Infinity) || backend.container !== spec.container;
}

/** Remove a backend by name: no new requests, in-flight ones finish. Returns false when unknown. */
export function leaveBackend(t: MembershipTarget, name: string): boolean {
  const b = t.pool.remove(name);
  if (!b) return false;
  t.balancer.forget(name);
  t.probes?.drop(b);
  if (b.container !== undefined) t.containers?.untrack(name);
  return true;
}
