/**
 * Wiring: {@linkcode startLoadBalancer} builds the parts (lib/server/parts.ts), opens the admin
 * listener, warms up (discovery, first health round), opens the public listener, and owns graceful
 * shutdown and hot reload. `main.ts` and the tests start the proxy through it.
 *
 * @module
 */

import { Registry } from "prom-client";
import { AccessLog, type AccessRecord, type Sink } from "../access_log/mod.ts";
import type { ResourceStats } from "../../algorithms/mod.ts";
import { createAdminHandler } from "../admin/mod.ts";
import { consoleLogger, type Logger } from "../base/mod.ts";
import { type Config, type ConfigResult, needsDocker } from "../config/mod.ts";
import {
  type DiscoverySink,
  type DockerApi,
  type DockerLink,
  lazyDocker,
  startDiscovery,
  warnIfBlind,
} from "../docker/mod.ts";
import type { Http1Server } from "../listener/mod.ts";
import { Metrics, ResilienceMetrics, StatsWindow } from "../metrics/mod.ts";
import type { Backend, Balancer, HealthChecker, Pool } from "../pool/mod.ts";
import { type AccessSink, createProxyHandler } from "../proxy/mod.ts";
import type { OutlierDetector } from "../resilience/mod.ts";
import { Router } from "../routing/mod.ts";
import { type Reloader, reloadFrom, type ReloadResult, type Service, ServiceSet } from "../service/mod.ts";
import { UpstreamClient } from "../upstream/mod.ts";
import { listenAdmin, ListenError, listenPublic } from "./listen.ts";
import { logRejection } from "./access.ts";
import { listenTls, redirectToHttps, type TlsListener } from "./tls.ts";

/** Options for {@linkcode startLoadBalancer}; all optional. */
export interface StartOptions {
  /** The process's one metrics registry. @default a new Registry */
  registry?: Registry;
  /** @default consoleLogger("info") */
  log?: Logger;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
  /** Uniform random in [0, 1). @default Math.random */
  random?: () => number;
  /** Collect prom-client's process metrics. @default true */
  processMetrics?: boolean;
  /**
   * Where a reload reads the config from (the config file). Without it, reload answers that
   * there is no file to reload.
   */
  configSource?: () => Promise<ConfigResult>;
  /**
   * Container resource samples for `least_resources`. @default the Docker stats collector,
   * started when the config needs Docker
   */
  stats?: ResourceStats;
  /** Docker Engine client. @default connectDocker(discovery.docker.socket), only when the config needs Docker */
  docker?: DockerApi;
  /** How long startup waits for discovery's first listing before probing the pool. @default 2000 */
  discoveryWaitMs?: number;
  /** Opens the access log's file or standard output. @default openSink (lib/access_log) */
  openAccessLog?: (path: string) => Promise<Sink>;
  /** Wall clock in ms since the Unix epoch (sticky cookie expiries). @default Date.now */
  wallClock?: () => number;
  /**
   * Called with every proxied request's access-log record (whether or not the access log is on),
   * when its exchange is over: what the forwarder did, hedge and sticky cookie included.
   */
  onRequest?: (record: AccessRecord) => void;
}

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
  /** The config in effect (changes on reload). */
  config(): Config;
  /** Re-read the config source and apply it; the running config stays on any error. */
  reload(): Promise<ReloadResult>;
  /** Reopen the access log's file (SIGUSR1, after logrotate moved it). */
  reopenLogs(): Promise<void>;
  /** Stop accepting, let in-flight requests finish up to `shutdown_timeout`, close everything. */
  shutdown(): Promise<void>;
}

/**
 * Start the proxy: admin listener first (so `/healthz` answers during startup), then one round
 * of health checks, then the public listener, so no request ever meets an unprobed pool.
 *
 * @throws {ListenError} when a listener's address cannot be bound; the message is one line
 *   naming the config key and the address, and nothing started is left running
 * @example
 * ```ts
 * import { parseConfig } from "../config/config.ts";
 * import { startLoadBalancer } from "./start.ts";
 * const r = parseConfig("listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\nbackends: [{url: http://127.0.0.1:9001}]");
 * if (r.ok) {
 *   const lb = await startLoadBalancer(r.config);
 *   await lb.shutdown();
 * }
 * ```
 */
export async function startLoadBalancer(config: Config, options: StartOptions = {}): Promise<LoadBalancer> {
  let current = config;
  const log = options.log ?? consoleLogger("info");
  const now = options.now ?? (() => performance.now());
  const registry = options.registry ?? new Registry();
  const metrics = new Metrics(registry, options.processMetrics ?? true);
  const unrouted = new StatsWindow({ now });
  metrics.addUnroutedObserver(unrouted);
  const resilience = new ResilienceMetrics(registry);
  let accessLog: AccessLog;
  try {
    accessLog = await AccessLog.open(config.accessLog, { registry, log, open: options.openAccessLog });
  } catch (e) {
    throw new ListenError((e as Error).message);
  }
  const client = new UpstreamClient({ now });
  // Docker is connected on first need only (lib/docker/link.ts).
  const docker = lazyDocker({
    socket: () => current.discovery.docker.socket,
    docker: options.docker,
    registry,
    log,
    now,
  });
  const stats = options.stats ?? docker.stats;
  const services = new ServiceSet(config.services, {
    log,
    now,
    random: options.random ?? Math.random,
    metrics,
    resilience,
    client,
    containers: { track: docker.track, untrack: docker.untrack, stats },
    trustedProxies: () => current.trustedProxies,
  });
  if (needsDocker(config)) docker.connect();
  const route = (c: Config) => new Router(c.routes, (name) => services.get(name)!);
  let router = route(config);
  let tls: TlsListener | undefined;
  const reload = serializeReloads({
    services,
    resilience,
    log,
    source: options.configSource ??
      (() => Promise.resolve({ ok: false, errors: ["no config file to reload from"] } as ConfigResult)),
    current: () => current,
    swap: (next: Config) => {
      current = next;
      router = route(next);
    },
    prepare: async (next) => {
      const error = next.tls && tls ? await tls.rotate(next.tls) : undefined;
      if (error) return [error];
      const logError = await accessLog.apply(next.accessLog);
      return logError ? [logError] : [];
    },
  });

  const admin = listenAdmin(
    config.admin.listen,
    createAdminHandler({
      config: () => current,
      services,
      metrics,
      log,
      reload: options.configSource ? reload : undefined,
      unrouted,
    }),
    log,
  );
  let proxy: Http1Server;
  try {
    await warmUp(services, docker, config, options.discoveryWaitMs ?? 2_000, log);
    const onRequest = options.onRequest;
    const records: AccessSink = onRequest
      ? {
        enabled: true,
        write: (record) => {
          if (accessLog.enabled) accessLog.write(record);
          onRequest(record);
        },
      }
      : accessLog;
    const handler = createProxyHandler({
      config: () => current,
      router: () => router,
      client,
      metrics,
      now,
      accessLog: records,
      wallClock: options.wallClock,
    });
    const onReject = logRejection(accessLog);
    if (config.tls) {
      tls = await listenTls(config.tls, { current: () => current, handler, metrics, log, now, onReject });
    }
    const redirect = redirectToHttps(handler, () => current.tls, metrics, { access: accessLog, now });
    proxy = listenPublic(config.listen, redirect, {
      onReject,
      headerTimeoutMs: () => current.timeouts.clientHeaderMs,
      idleTimeoutMs: () => current.timeouts.clientIdleMs,
      tunnelIdleMs: () => current.timeouts.tunnelIdleMs,
      log,
      now,
    });
  } catch (e) {
    tls?.server.close();
    services.stop();
    client.close();
    await docker.close();
    await admin.shutdown();
    await accessLog.close();
    throw e;
  }
  // Port 0 means "any free port": record the port actually bound, so a reload of the same file
  // compares against the address in use.
  current = {
    ...current,
    listen: { ...current.listen, port: proxy.addr.port },
    admin: { ...current.admin, listen: { ...current.admin.listen, port: admin.addr.port } },
    tls: current.tls && tls
      ? { ...current.tls, listen: { ...current.tls.listen, port: tls.server.addr.port } }
      : null,
  };
  log("info", "listening", {
    proxy: `${proxy.addr.hostname}:${proxy.addr.port}`,
    admin: `${admin.addr.hostname}:${admin.addr.port}`,
    tls: tls
      ? `${tls.server.addr.hostname}:${tls.server.addr.port}${current.tls?.http2 ? " (h2, http/1.1)" : ""}`
      : undefined,
    services: services.all().map((s) => `${s.name}:${s.balancer.strategy}`).join(","),
  });

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      const inFlight = services.all().reduce(
        (n, s) => n + s.pool.all().reduce((m, b) => m + b.inFlight, 0),
        0,
      );
      log("info", "shutting down", { in_flight: inFlight });
      await Promise.all([
        drain(proxy, current.shutdownTimeoutMs, log),
        tls && drain(tls.server, current.shutdownTimeoutMs, log),
      ]);
      services.stop();
      client.close();
      await docker.close();
      await admin.shutdown();
      await accessLog.close();
    })();

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
    proxyAddr: proxy.addr,
    adminAddr: admin.addr,
    tlsAddr: tls?.server.addr,
    metrics,
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
    sink: services.sink,
    config: () => current,
    reload,
    reopenLogs: () => accessLog.reopen(),
    shutdown,
  };
}

/** One reload at a time: a second SIGHUP during a reload waits for it, then reads the file again. */
function serializeReloads(reloader: Reloader): () => Promise<ReloadResult> {
  let reloading: Promise<ReloadResult> | undefined;
  return async () => {
    while (reloading) await reloading.catch(() => {});
    reloading = reloadFrom(reloader);
    try {
      return await reloading;
    } finally {
      reloading = undefined;
    }
  };
}

/**
 * Before the public listener opens: discovery's first listing (bounded by `discoveryWaitMs`), then
 * one round of health checks of everything known, then the periodic checks.
 */
async function warmUp(
  services: ServiceSet,
  docker: DockerLink,
  config: Config,
  discoveryWaitMs: number,
  log: Logger,
): Promise<void> {
  await startDiscovery(docker, services.sink, config, discoveryWaitMs, log);
  warnIfBlind(config, log);
  await Promise.all(services.all().map((s) => s.health.firstRound()));
  for (const s of services.all()) {
    s.health.start();
    s.pool.markStarted();
    const eligible = s.pool.eligible().length;
    log(eligible > 0 ? "info" : "warn", "first health check round done", {
      service: s.name,
      eligible,
      total: s.pool.all().length,
    });
  }
}

/** Let in-flight requests finish for up to `timeoutMs`, then close what is left. */
async function drain(proxy: Http1Server, timeoutMs: number, log: Logger): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const outcome = await Promise.race([proxy.shutdown().then(() => "drained" as const), deadline]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    log("warn", "shutdown timeout reached; closing remaining connections");
    proxy.close();
  }
}
