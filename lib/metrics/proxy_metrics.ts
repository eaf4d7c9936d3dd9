/**
 * Prometheus metrics. Names and labels are a contract with the Grafana dashboards; see README.
 *
 * prom-client's `labels()` hashes its arguments on every call, so the hot path goes through
 * small caches of label-bound children instead.
 *
 * @module
 */

import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from "prom-client";
import { removeBackendSeries } from "./series.ts";
import { VERSION } from "../base/mod.ts";

/** Seconds; spans sub-millisecond loopback hops to slow upstreams. */
export const DURATION_BUCKETS = [.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10];

/** Upstream failure kinds. */
export type UpstreamErrorKind = "connect" | "timeout" | "reset";
const ERROR_KINDS: readonly UpstreamErrorKind[] = ["connect", "timeout", "reset"];

const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
]);

/** The `method` label: a known method or `OTHER`, so clients cannot grow label cardinality. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "OTHER";
}

/**
 * Sees every request the proxy records, besides Prometheus: the status page's windowed stats
 * subscribe here so the request path has one place to report to.
 */
export interface RequestObserver {
  countRequest(backend: string, strategy: string, code: number): void;
  observeDuration(backend: string, strategy: string, seconds: number): void;
  /** The backend left the pool: drop what is kept for it. */
  forget?(backend: string): void;
}

/** All metrics of one proxy instance, registered on the registry passed in. */
export class Metrics {
  readonly registry: Registry;
  readonly requests: Counter<"backend" | "strategy" | "method" | "code">;
  readonly duration: Histogram<"backend" | "strategy">;
  readonly active: Gauge<"backend">;
  readonly up: Gauge<"backend">;
  readonly healthChecks: Counter<"backend" | "result">;
  readonly upstreamErrors: Counter<"backend" | "kind">;
  readonly strategyInfo: Gauge<"strategy">;
  #pool: () => readonly { name: string; inFlight: number; state: string }[] = () => [];
  #requestChildren = new Map<string, { inc(): void }>();
  #durationChildren = new Map<string, { observe(v: number): void }>();
  #observers: RequestObserver[] = [];
  /** Backends removed from the pool, whose series must not come back. */
  #gone = new Set<string>();

  /**
   * Create and register every metric.
   *
   * @param registry the one registry of the process (created in `main.ts`).
   * @param defaults also collect prom-client's process metrics (CPU, memory, event loop lag).
   */
  constructor(registry: Registry, defaults = true) {
    this.registry = registry;
    const registers = [registry];
    this.requests = new Counter({
      name: "lb_requests_total",
      help:
        "Requests answered, by backend (none when no backend was eligible), strategy, method and status code.",
      labelNames: ["backend", "strategy", "method", "code"],
      registers,
    });
    this.duration = new Histogram({
      name: "lb_request_duration_seconds",
      help: "Time from forwarding a request to the end of the upstream response.",
      labelNames: ["backend", "strategy"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    // Read from the pool at scrape time: no gauge arithmetic on the request path, and the value
    // can never drift from the count the balancer uses.
    const pool = () => this.#pool();
    this.active = new Gauge({
      name: "lb_active_connections",
      help: "Requests in flight to each backend.",
      labelNames: ["backend"],
      registers,
      collect() {
        this.reset();
        for (const b of pool()) this.set({ backend: b.name }, b.inFlight);
      },
    });
    this.up = new Gauge({
      name: "lb_backend_up",
      help: "1 when the backend is healthy and eligible for traffic, else 0.",
      labelNames: ["backend"],
      registers,
      collect() {
        this.reset();
        for (const b of pool()) this.set({ backend: b.name }, b.state === "healthy" ? 1 : 0);
      },
    });
    this.healthChecks = new Counter({
      name: "lb_health_checks_total",
      help: "Active health check results.",
      labelNames: ["backend", "result"],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: "lb_upstream_errors_total",
      help: "Upstream failures by kind: connect, timeout, reset.",
      labelNames: ["backend", "kind"],
      registers,
    });
    this.strategyInfo = new Gauge({
      name: "lb_strategy_info",
      help: "The current balancing strategy (value 1).",
      labelNames: ["strategy"],
      registers,
    });
    new Gauge({
      name: "lb_build_info",
      help: "Build information (value 1).",
      labelNames: ["version"],
      registers,
    })
      .set({ version: VERSION }, 1);
    if (defaults) {
      collectDefaultMetrics({ register: registry });
      // These gauges end in _total, which Prometheus reserves for counters (promtool flags them);
      // the same numbers remain available without the suffix.
      for (
        const name of [
          "nodejs_active_handles_total",
          "nodejs_active_requests_total",
          "nodejs_active_resources_total",
        ]
      ) {
        registry.removeSingleMetric(name);
      }
    }
  }

  /** Read in-flight counts and states from `source` at every scrape. */
  observePool(source: () => readonly { name: string; inFlight: number; state: string }[]): void {
    this.#pool = source;
  }

  /** Also report every counted request and observed duration to `observer`. */
  addObserver(observer: RequestObserver): void {
    this.#observers.push(observer);
  }

  /** Create every per-backend series at zero so the backend is visible before its first request. */
  addBackend(name: string, strategy: string): void {
    this.#gone.delete(name);
    for (const result of ["success", "failure"]) this.healthChecks.inc({ backend: name, result }, 0);
    for (const kind of ERROR_KINDS) this.upstreamErrors.inc({ backend: name, kind }, 0);
    this.requests.inc({ backend: name, strategy, method: "GET", code: "200" }, 0);
    this.duration.zero({ backend: name, strategy });
  }

  /**
   * Drop every series of a backend that left the pool. Requests it answers afterwards are not
   * counted: the answer may be relayed after the last request ended (a small body is read whole
   * with its head), and counting it would bring the series back.
   */
  async removeBackend(name: string): Promise<void> {
    this.#gone.add(name);
    for (const o of this.#observers) o.forget?.(name);
    for (const cache of [this.#requestChildren, this.#durationChildren]) {
      for (const key of cache.keys()) if (key.startsWith(`${name}\0`)) cache.delete(key);
    }
    for (const m of [this.requests, this.duration, this.healthChecks, this.upstreamErrors]) {
      await removeBackendSeries(m, name);
    }
  }

  /** Record the current strategy in `lb_strategy_info`. */
  setStrategy(name: string): void {
    this.strategyInfo.reset();
    this.strategyInfo.set({ strategy: name }, 1);
  }

  /** Count one answered request. */
  countRequest(backend: string, strategy: string, method: string, code: number): void {
    const m = methodLabel(method);
    const key = `${backend}\0${strategy}\0${m}\0${code}`;
    let child = this.#requestChildren.get(key);
    if (!child) {
      if (this.#gone.has(backend)) return;
      child = this.requests.labels({ backend, strategy, method: m, code: String(code) });
      this.#requestChildren.set(key, child);
    }
    child.inc();
    for (const o of this.#observers) o.countRequest(backend, strategy, code);
  }

  /** Observe an upstream request duration in seconds. */
  observeDuration(backend: string, strategy: string, seconds: number): void {
    const key = `${backend}\0${strategy}`;
    let child = this.#durationChildren.get(key);
    if (!child) {
      if (this.#gone.has(backend)) return;
      child = this.duration.labels({ backend, strategy });
      this.#durationChildren.set(key, child);
    }
    child.observe(seconds);
    for (const o of this.#observers) o.observeDuration(backend, strategy, seconds);
  }
}
