/**
 * The owner isolate once it listens: the "listening" line, graceful shutdown, and the
 * {@linkcode LoadBalancer} handed to whoever started it.
 *
 * @module
 */

import type { Logger } from "../base/mod.ts";
import type { WorkerSet } from "../cluster/mod.ts";
import type { DiscoverySink } from "../docker/mod.ts";
import type { Metrics, StatsWindow } from "../metrics/mod.ts";
import type { Backend, Balancer, HealthChecker, Pool } from "../pool/mod.ts";
import type { OutlierDetector } from "../resilience/mod.ts";
import type { ReloadResult, Service, ServiceSet } from "../service/mod.ts";
import type { Config } from "../config/mod.ts";
import { closeOwned, type Owned } from "./owner.ts";
import { drainAll, type PublicListeners } from "./public.ts";

/** A running proxy. */
export interface LoadBalancer {
  readonly proxyAddr: Deno.NetAddr;
  readonly adminAddr: Deno.NetAddr;
  /** The TLS listener's address, when `tls` is configured. */
  readonly tlsAddr?: Deno.NetAddr;
  readonly metrics: Metrics;
  /** The running services (a reload adds, changes and retires them). */
  readonly services: ServiceSet;
  /** The service named `name`, or the first one; throws when there is no such service. */
  service(name?: string): Service;
  /** The first service's pool (the only service of a config with a top-level `backends`). */
  readonly pool: Pool;
  /** The first service's balancer. */
  readonly balancer: Balancer;
  /** The first service's health checker. */
  readonly health: HealthChecker;
  /** The first service's passive health: consecutive failures and ejections per backend. */
  readonly outliers: OutlierDetector<Backend>;
  /** The first service's last minute of per-backend requests. */
  readonly stats: StatsWindow;
  /**
   * Where discovered backends enter and leave (Docker discovery feeds it when enabled), routed to
   * their service. They are probed before they get traffic, drain when removed, and survive
   * config reloads.
   */
  readonly sink: DiscoverySink;
  /** Isolates accepting on the public listeners (`workers`, `auto` resolved); 1: this one alone. */
  readonly workers: number;
  /**
   * Stop worker `worker` (1 and up) and start it again, as after a crash; resolves when it
   * listens. Its counts so far stay in the merged metrics.
   *
   * @throws {RangeError} with one isolate, or no such worker
   */
  restartWorker(worker: number): Promise<void>;
  /** The config in effect (changes on reload). */
  config(): Config;
  /** Re-read the config source and apply it; the running config stays on any error. */
  reload(): Promise<ReloadResult>;
  /** Reopen the access log's file (SIGUSR1, after logrotate moved it). */
  reopenLogs(): Promise<void>;
  /** Stop accepting, let in-flight requests finish up to `shutdown_timeout`, close everything. */
  shutdown(): Promise<void>;
}

/** What the owner isolate runs once it listens; startLoadBalancer builds it and alone holds it. */
export interface Running extends Owned {
  readonly listeners: PublicListeners;
  /** The worker isolates, when `workers` > 1. */
  readonly peers: WorkerSet | undefined;
  /** Isolates in all, the owner included. */
  readonly isolates: number;
  readonly log: Logger;
}

/**
 * Log "listening" with every address, the services' strategies and the workers.
 *
 * Why: the one line an operator reads to see startup done and where the proxy answers.
 */
export function logListening({ parts, admin, listeners, isolates, log }: Running): void {
  const { proxy, tls } = listeners;
  log("info", "listening", {
    proxy: `${proxy.addr.hostname}:${proxy.addr.port}`,
    admin: `${admin.addr.hostname}:${admin.addr.port}`,
    tls: tls
      ? `${tls.server.addr.hostname}:${tls.server.addr.port}${
        parts.config().tls?.http2 ? " (h2, http/1.1)" : ""
      }`
      : undefined,
    // The names each `tls.certificates` pair is chosen by, pairs separated by ";".
    sni: tls?.served.sni.length ? tls.served.sni.map((c) => c.names.join(",")).join(";") : undefined,
    services: parts.services.all().map((s) => `${s.name}:${s.balancer.strategy}`).join(","),
    workers: isolates > 1 ? isolates : undefined,
  });
}

/**
 * The proxy's shutdown: drain the public listeners and the workers up to `shutdown_timeout`,
 * then {@linkcode closeOwned}.
 *
 * Why: SIGTERM, SIGINT and the tests may all ask; every call gets the one shutdown under way.
 */
export function shutdownOnce(running: Running): () => Promise<void> {
  const { parts, listeners, peers, isolates, log } = running;
  const { services } = parts;
  let stopping: Promise<void> | undefined;
  return () =>
    stopping ??= (async () => {
      const inFlight = services.all().reduce(
        (n, s) => n + s.pool.all().reduce((m, b) => m + b.inFlight, 0),
        0,
      );
      log("info", "shutting down", { in_flight: inFlight, workers: isolates > 1 ? isolates : undefined });
      const timeoutMs = parts.config().shutdownTimeoutMs;
      await Promise.all([drainAll(listeners, timeoutMs, log), peers?.shutdown(timeoutMs)]);
      await closeOwned(running);
    })();
}

/** What {@linkcode runningProxy} hands out besides the running parts. */
export interface RunningControls {
  readonly sink: DiscoverySink;
  readonly reload: () => Promise<ReloadResult>;
  readonly shutdown: () => Promise<void>;
}

/**
 * The {@linkcode LoadBalancer} over the running owner isolate.
 *
 * Why: its first-service shortcuts (`pool`, `balancer`, ...) look the service up on every read,
 * so they follow reloads that add or retire services.
 */
export function runningProxy(running: Running, controls: RunningControls): LoadBalancer {
  const { parts, admin, listeners, peers, isolates } = running;
  const { services } = parts;
  const service = (name?: string): Service => {
    const s = name === undefined ? services.all()[0] : services.get(name);
    if (!s) {
      throw new RangeError(
        `Cannot find service "${name}": services are ${services.all().map((x) => x.name).join(", ")}`,
      );
    }
    return s;
  };
  return {
    proxyAddr: listeners.proxy.addr,
    adminAddr: admin.addr,
    tlsAddr: listeners.tls?.server.addr,
    metrics: parts.metrics,
    services,
    service,
    get pool() {
      return service().pool;
    },
    get balancer() {
      return service().balancer;
    },
    get health() {
      return service().health;
    },
    get outliers() {
      return service().outliers;
    },
    get stats() {
      return service().stats;
    },
    sink: controls.sink,
    workers: isolates,
    restartWorker: async (worker) => {
      if (!peers) throw new RangeError("Cannot restart a worker: this proxy runs one isolate (workers: 1)");
      await peers.restart(worker);
    },
    config: parts.config,
    reload: controls.reload,
    reopenLogs: async () => {
      await Promise.all([parts.accessLog.reopen(), peers?.reopenLogs()]);
    },
    shutdown: controls.shutdown,
  };
}
