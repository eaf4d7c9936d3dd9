/**
 * Prometheus metrics. Names and labels are a contract with the Grafana dashboards; see README.
 *
 * Every per-backend series carries a `service` label (backend names are unique only within a
 * service). The request path records through a {@linkcode ServiceMetrics} view bound to its
 * service once, so it never builds label objects: prom-client's `labels()` hashes its arguments
 * on every call, and the views cache the label-bound children instead.
 *
 * @module
 */

import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from "prom-client";
import { VERSION } from "../base/mod.ts";
import { BoundHistogram, RequestCounters } from "./bound.ts";
import { removeSeries } from "./series.ts";
import { registerStateGauges } from "./state_metrics.ts";

/** Seconds; spans sub-millisecond loopback hops to slow upstreams. */
export const DURATION_BUCKETS = [.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10];

/** Upstream failure kinds. */
export type UpstreamErrorKind = "connect" | "timeout" | "reset";
const ERROR_KINDS: readonly UpstreamErrorKind[] = ["connect", "timeout", "reset"];

/** The `service` and `backend` label of requests that matched no route, or found no backend. */
export const NONE = "none";

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

/** The `protocol` label of a request's HTTP version: `http/1.0`, `http/1.1` or `h2` (ALPN's names). */
export function protocolLabel(version: string): string {
  return version === "HTTP/2" ? "h2" : version === "HTTP/1.0" ? "http/1.0" : "http/1.1";
}

/** The `method` label: a known method or `OTHER`, so clients cannot grow label cardinality. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "OTHER";
}

/**
 * Sees every request a service records, besides Prometheus: the status page's windowed stats
 * subscribe here so the request path has one place to report to.
 */
export interface RequestObserver {
  countRequest(backend: string, strategy: string, code: number): void;
  observeDuration(backend: string, strategy: string, seconds: number): void;
  /** The backend left the pool: drop what is kept for it. */
  forget?(backend: string): void;
}

/** A service's backends as the gauges read them at scrape time. */
export interface PoolView {
  readonly service: string;
  readonly backends: () => readonly { name: string; inFlight: number; state: string }[];
}

/** All metrics of one proxy instance, registered on the registry passed in. */
export class Metrics {
  readonly registry: Registry;
  readonly requests: Counter<"service" | "backend" | "strategy" | "method" | "code" | "protocol">;
  readonly duration: Histogram<"service" | "backend" | "strategy">;
  readonly active: Gauge<"service" | "backend">;
  readonly up: Gauge<"service" | "backend">;
  readonly healthChecks: Counter<"service" | "backend" | "result">;
  readonly upstreamErrors: Counter<"service" | "backend" | "kind">;
  readonly strategyInfo: Gauge<"service" | "strategy">;
  readonly tunnels: Gauge<"service" | "backend">;
  readonly tlsHandshakeFailures: Counter<"reason">;
  #pools = new Map<string, PoolView>();
  #unrouted: RequestCounters | undefined;
  #unroutedObservers: RequestObserver[] = [];

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
        "Requests answered, by service and backend (none when no route matched or no backend was eligible), strategy, method, status code and protocol (http/1.0, http/1.1, h2).",
      labelNames: ["service", "backend", "strategy", "method", "code", "protocol"],
      registers,
    });
    this.duration = new Histogram({
      name: "lb_request_duration_seconds",
      help: "Time from forwarding a request to the end of the upstream response.",
      labelNames: ["service", "backend", "strategy"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    // Read from the pools at scrape time: no gauge arithmetic on the request path, and the value
    // can never drift from the count the balancer uses.
    const pools = () => this.#pools.values();
    this.active = new Gauge({
      name: "lb_active_connections",
      help: "Requests in flight to each backend.",
      labelNames: ["service", "backend"],
      registers,
      collect() {
        this.reset();
        for (const p of pools()) {
          for (const b of p.backends()) this.set({ service: p.service, backend: b.name }, b.inFlight);
        }
      },
    });
    this.up = new Gauge({
      name: "lb_backend_up",
      help: "1 when the backend is healthy and eligible for traffic, else 0.",
      labelNames: ["service", "backend"],
      registers,
      // Every isolate mirrors one state (lib/cluster/): merged, it is the owner's, never a sum.
      aggregator: "first",
      collect() {
        this.reset();
        for (const p of pools()) {
          for (const b of p.backends()) {
            this.set({ service: p.service, backend: b.name }, b.state === "healthy" ? 1 : 0);
          }
        }
      },
    });
    registerStateGauges(registry, pools);
    this.healthChecks = new Counter({
      name: "lb_health_checks_total",
      help: "Active health check results.",
      labelNames: ["service", "backend", "result"],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: "lb_upstream_errors_total",
      help: "Upstream failures by kind: connect, timeout, reset.",
      labelNames: ["service", "backend", "kind"],
      registers,
    });
    this.strategyInfo = new Gauge({
      name: "lb_strategy_info",
      help: "The current balancing strategy of each service (value 1).",
      labelNames: ["service", "strategy"],
      registers,
      aggregator: "first",
    });
    this.tunnels = new Gauge({
      name: "lb_open_tunnels",
      help: "Tunnels open to each backend (WebSockets and other upgrades, after a 101).",
      labelNames: ["service", "backend"],
      registers,
    });
    this.tlsHandshakeFailures = new Counter({
      name: "lb_tls_handshake_failures_total",
      help:
        "TLS handshakes that failed on the TLS listener: timeout, protocol (not TLS, or no common protocol), certificate (the client refused ours), other.",
      labelNames: ["reason"],
      registers,
    });
    new Gauge({
      name: "lb_build_info",
      help: "Build information (value 1).",
      labelNames: ["version"],
      registers,
      aggregator: "first",
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
      replaceProcFsMetrics(registry);
    }
  }

  /** The view through which `service` records; its gauges read `pool` at every scrape. */
  service(service: string, backends: PoolView["backends"]): ServiceMetrics {
    this.#pools.set(service, { service, backends });
    return new ServiceMetrics(this, service);
  }

  /** Drop every series of a service that is gone (after its last request ended). */
  async removeService(service: string): Promise<void> {
    this.#pools.delete(service);
    for (
      const m of [this.requests, this.duration, this.healthChecks, this.upstreamErrors, this.strategyInfo]
    ) {
      await removeSeries(m, { service });
    }
  }

  /** Also report every request no route matched to `observer` (as backend "none"). */
  addUnroutedObserver(observer: RequestObserver): void {
    this.#unroutedObservers.push(observer);
  }

  /** Count a request no route matched (`service="none"`, `backend="none"`). */
  countUnrouted(method: string, code: number, protocol = "http/1.1"): void {
    this.#unrouted ??= new RequestCounters(this.requests, { service: NONE, backend: NONE, strategy: NONE });
    this.#unrouted.get(methodLabel(method), code, protocol).inc();
    for (const o of this.#unroutedObservers) o.countRequest(NONE, NONE, code);
  }
}

/** The series one backend's requests update, for one strategy. */
interface BackendSeries {
  readonly strategy: string;
  readonly requests: RequestCounters;
  readonly duration: BoundHistogram;
}

/** The metrics of one service: what its pool, balancer, health checks and requests record. */
export class ServiceMetrics {
  readonly service: string;
  readonly #m: Metrics;
  /** Each backend's request-path series, bound once (rebuilt when its strategy changes). */
  #series = new Map<string, BackendSeries>();
  #observers: RequestObserver[] = [];
  #strategy: string | undefined;
  /** Backends removed from the pool, whose series must not come back. */
  #gone = new Set<string>();

  constructor(metrics: Metrics, service: string) {
    this.#m = metrics;
    this.service = service;
  }

  /** Also report every counted request and observed duration to `observer`. */
  addObserver(observer: RequestObserver): void {
    this.#observers.push(observer);
  }

  /** Create every per-backend series at zero so the backend is visible before its first request. */
  addBackend(backend: string, strategy: string): void {
    const { service } = this;
    const m = this.#m;
    this.#gone.delete(backend);
    for (const result of ["success", "failure"]) m.healthChecks.inc({ service, backend, result }, 0);
    for (const kind of ERROR_KINDS) m.upstreamErrors.inc({ service, backend, kind }, 0);
    // inc by 0, not set: a strategy switch calls this again while tunnels stay open.
    m.tunnels.inc({ service, backend }, 0);
    m.requests.inc({ service, backend, strategy, method: "GET", code: "200", protocol: "http/1.1" }, 0);
    m.duration.zero({ service, backend, strategy });
  }

  /**
   * Drop every series of a backend that left the pool. Requests it answers afterwards are not
   * counted: the answer may be relayed after the last request ended (a small body is read whole
   * with its head), and counting it would bring the series back.
   */
  async removeBackend(backend: string): Promise<void> {
    this.#gone.add(backend);
    for (const o of this.#observers) o.forget?.(backend);
    this.#series.delete(backend);
    const m = this.#m;
    for (const metric of [m.requests, m.duration, m.healthChecks, m.upstreamErrors, m.tunnels]) {
      await removeSeries(metric, { service: this.service, backend });
    }
  }

  /** Record the service's current strategy in `lb_strategy_info`. */
  setStrategy(strategy: string): void {
    const info = this.#m.strategyInfo;
    if (this.#strategy !== undefined) info.remove({ service: this.service, strategy: this.#strategy });
    this.#strategy = strategy;
    info.set({ service: this.service, strategy }, 1);
  }

  /** Count one answered request (`backend` is "none" when no backend was eligible). */
  countRequest(backend: string, strategy: string, method: string, code: number, protocol = "http/1.1"): void {
    const series = this.#seriesOf(backend, strategy);
    if (!series) return;
    series.requests.get(methodLabel(method), code, protocol).inc();
    for (const o of this.#observers) o.countRequest(backend, strategy, code);
  }

  /** Observe an upstream request duration in seconds. */
  observeDuration(backend: string, strategy: string, seconds: number): void {
    const series = this.#seriesOf(backend, strategy);
    if (!series) return;
    series.duration.observe(seconds);
    for (const o of this.#observers) o.observeDuration(backend, strategy, seconds);
  }

  /** The bound series of `backend` under `strategy`; none for a backend that left the pool. */
  #seriesOf(backend: string, strategy: string): BackendSeries | undefined {
    const found = this.#series.get(backend);
    if (found?.strategy === strategy) return found;
    if (this.#gone.has(backend)) return undefined;
    const base = { service: this.service, backend, strategy };
    const series = {
      strategy,
      requests: new RequestCounters(this.#m.requests, base),
      duration: new BoundHistogram(this.#m.duration, base),
    };
    this.#series.set(backend, series);
    return series;
  }

  /** Count one upstream failure. */
  upstreamError(backend: string, kind: UpstreamErrorKind): void {
    this.#m.upstreamErrors.inc({ service: this.service, backend, kind });
  }

  /** A tunnel to `backend` opened (`+1`) or closed (`-1`); a removed backend's is not brought back. */
  tunnel(backend: string, delta: 1 | -1): void {
    if (!this.#gone.has(backend)) this.#m.tunnels.inc({ service: this.service, backend }, delta);
  }

  /** Count one active health check result. */
  healthCheck(backend: string, ok: boolean): void {
    this.#m.healthChecks.inc({ service: this.service, backend, result: ok ? "success" : "failure" });
  }
}

/**
 * prom-client reads memory and file descriptors from /proc/self, which Deno lets a program read
 * only with every permission granted (--allow-all): with the proxy's named permissions those
 * gauges read 0, and a dashboard would show a proxy using no memory. Resident memory and the heap
 * come from `Deno.memoryUsage()` instead; the ones nothing else can tell (virtual memory, open
 * and maximum descriptors) are removed rather than left at a false 0.
 */
function replaceProcFsMetrics(registry: Registry): void {
  for (
    const name of [
      "process_resident_memory_bytes",
      "process_virtual_memory_bytes",
      "process_heap_bytes",
      "process_open_fds",
      "process_max_fds",
    ]
  ) registry.removeSingleMetric(name);
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes (Deno.memoryUsage().rss).",
    registers: [registry],
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  new Gauge({
    name: "process_heap_bytes",
    help: "V8 heap size in bytes (Deno.memoryUsage().heapTotal).",
    registers: [registry],
    collect() {
      this.set(Deno.memoryUsage().heapTotal);
    },
  });
}
