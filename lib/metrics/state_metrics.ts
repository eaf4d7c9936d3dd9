/**
 * Why a backend takes no traffic, and whether a service can answer at all: the two gauges the
 * alert rules need that `lb_backend_up` cannot give.
 *
 * `lb_backend_up` is 0 for a backend that is down, ejected, drained by an operator or not yet
 * probed alike, so an alert on it pages for a deliberate drain. `lb_backend_state` is one series
 * per state with the current one at 1, as HAProxy's `haproxy_server_status{state}` and
 * kube-state-metrics' `kube_pod_status_phase{phase}` do, so a rule can pick `unhealthy` alone.
 * `lb_service_healthy_backends` exists for every service, also one with no backend at all (Docker
 * discovery with no container), where a sum over per-backend series would have nothing to sum
 * and an alert on it would stay silent while the service answers 503. Both are read from the
 * pools at scrape time, so they can never drift from what the balancer uses.
 *
 * @module
 */

import { Gauge, type Registry } from "prom-client";

/** The states a backend can be in (lib/pool/backend.ts `BackendState`), each exported at 0 or 1. */
export const BACKEND_STATES: readonly string[] = ["unknown", "healthy", "unhealthy", "draining", "ejected"];

/** One service's backends as these gauges read them: name and state. */
export interface PoolStates {
  readonly service: string;
  /** Live backends first: of two entries with one name (one replaced, still finishing), the first counts. */
  readonly backends: () => readonly { readonly name: string; readonly state: string }[];
}

/**
 * Register `lb_backend_state{service,backend,state}` and `lb_service_healthy_backends{service}`
 * on `registry`; both read `pools()` at every scrape.
 *
 * @example
 * ```ts
 * import { Registry } from "prom-client";
 * import { registerStateGauges } from "./state_metrics.ts";
 * const registry = new Registry();
 * registerStateGauges(registry, () => [{ service: "web", backends: () => [{ name: "a", state: "healthy" }] }]);
 * // lb_backend_state{service="web",backend="a",state="healthy"} 1, the other four states 0
 * // lb_service_healthy_backends{service="web"} 1
 * ```
 */
export function registerStateGauges(registry: Registry, pools: () => Iterable<PoolStates>): void {
  const registers = [registry];
  new Gauge({
    name: "lb_backend_state",
    help:
      "1 for the backend's current state, 0 for the others: unknown (not probed yet), healthy, unhealthy (active health checks fail), draining (by the admin API or a reload), ejected (passive health).",
    labelNames: ["service", "backend", "state"],
    registers,
    // Every isolate mirrors the owner's states (workers > 1): merged, the owner's value, never a sum.
    aggregator: "first",
    collect() {
      this.reset();
      for (const p of pools()) {
        for (const b of distinct(p.backends())) {
          for (const state of BACKEND_STATES) {
            this.set({ service: p.service, backend: b.name, state }, state === b.state ? 1 : 0);
          }
          // A state added to the pool but not to the list above still shows, rather than none.
          if (!BACKEND_STATES.includes(b.state)) {
            this.set({ service: p.service, backend: b.name, state: b.state }, 1);
          }
        }
      }
    },
  });
  new Gauge({
    name: "lb_service_healthy_backends",
    help:
      "Healthy backends of each service (those at max_connections included: their requests queue); 0 means the service answers 503.",
    labelNames: ["service"],
    registers,
    aggregator: "first",
    collect() {
      this.reset();
      for (const p of pools()) {
        let healthy = 0;
        for (const b of distinct(p.backends())) if (b.state === "healthy") healthy++;
        this.set({ service: p.service }, healthy);
      }
    },
  });
}

/** The first entry of each name: a replaced backend still finishing requests must not hide the new one. */
function distinct<T extends { readonly name: string }>(backends: readonly T[]): T[] {
  const seen = new Set<string>();
  return backends.filter((b) => !seen.has(b.name) && seen.add(b.name));
}
