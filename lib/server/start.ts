/**
 * Wiring: {@linkcode startLoadBalancer} builds the parts (lib/server/parts.ts), opens the admin
 * listener, warms up (discovery, first health round), opens the public listeners (lib/server/public.ts),
 * starts the other workers when `workers` > 1 (lib/server/worker.ts is their entry point), and owns
 * graceful shutdown and hot reload. `main.ts` and the tests start the proxy through it.
 *
 * @module
 */

import { Registry } from "prom-client";
import { AccessLog, type AccessRecord, type Sink } from "../access_log/mod.ts";
import type { ResourceStats } from "../../algorithms/mod.ts";
import { createAdminHandler } from "../admin/mod.ts";
import { consoleLogger, type Logger } from "../base/mod.ts";
import { WorkerSet } from "../cluster/mod.ts";
import { type Config, type ConfigResult, needsDocker, workerCount } from "../config/mod.ts";
import {
  type DiscoverySink,
  type DockerApi,
  type DockerLink,
  lazyDocker,
  startDiscovery,
  warnIfBlind,
} from "../docker/mod.ts";
import type { Metrics, StatsWindow } from "../metrics/mod.ts";
import type { Backend, Balancer, HealthChecker, Pool } from "../pool/mod.ts";
import type { AccessSink } from "../proxy/mod.ts";
import type { OutlierDetector } from "../resilience/mod.ts";
import { reloadFrom, type ReloadResult, type Service, type ServiceSet } from "../service/mod.ts";
import { listenAdmin, ListenError } from "./listen.ts";
import { buildParts } from "./parts.ts";
import { drainAll, openPublic, type PublicListeners } from "./public.ts";

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
  /**
   * The module each worker isolate runs when `workers` > 1; one of your own must call
   * `runWorker` from lib/server/worker.ts (a program embedding the proxy, a test wrapping it).
   * @default lib/server/worker.ts
   */
  workerModule?: URL;
  /** Opens the access log's file or standard output. @default openSink (lib/access_log) */
  openAccessLog?: (path: string) => Promise<Sink>;
  /**
   * Wall clock in ms since the Unix epoch (sticky cookie expiries). @default Date.now (always, in
   * worker isolates: a function cannot cross to them)
   */
  wallClock?: () => number;
  /**
   * Called with every proxied request's access-log record (whether or not the access log is on),
   * when its exchange is over: what the forwarder did, hedge and sticky cookie included. With
   * `workers` > 1, only the requests this (the owner) isolate answered.
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

/**
 * Start the proxy: admin listener first (so `/healthz` answers during startup), then one round
 * of health checks, then the public listeners, so no request ever meets an unprobed pool. With
 * `workers` > 1 this isolate is the owner (health checks, admin, reloads, discovery) and serves
 * traffic too; the other workers start last, on the addresses it bound (lib/cluster/).
 *
 * @throws {ListenError} when a listener's address cannot be bound (by this isolate or a worker);
 *   the message is one line naming the config key and the address, and nothing started is left
 *   running
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
  const log = options.log ?? consoleLogger("info");
  const now = options.now ?? (() => performance.now());
  const registry = options.registry ?? new Registry();
  const isolates = workerCount(config.workers, navigator.hardwareConcurrency);
  let accessLog: AccessLog;
  try {
    accessLog = await AccessLog.open(config.accessLog, { registry, log, open: options.openAccessLog });
  } catch (e) {
    throw new ListenError((e as Error).message);
  }
  // Docker is connected on first need only (lib/docker/link.ts): maybe while the services are
  // built, for a backend naming a container, so before `parts` exists.
  let inEffect = () => config;
  const docker = lazyDocker({
    socket: () => inEffect().discovery.docker.socket,
    docker: options.docker,
    registry,
    log,
    now,
  });
  const stats = options.stats ?? docker.stats;
  let peers: WorkerSet | undefined;
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
  const parts = buildParts(config, {
    registry,
    log,
    now,
    random: options.random ?? Math.random,
    processMetrics: options.processMetrics ?? true,
    containers: { track: docker.track, untrack: docker.untrack, stats },
    accessLog,
    records,
    wallClock: options.wallClock,
    // With one isolate there is nobody to tell: no listener at all.
    onStateChange: isolates > 1 ? () => peers?.changed() : undefined,
  });
  inEffect = parts.config;
  const { services, metrics, resilience, client, unrouted } = parts;
  if (needsDocker(config)) docker.connect();
  let listeners: PublicListeners | undefined;
  if (isolates > 1) {
    peers = new WorkerSet({
      isolates,
      url: options.workerModule ?? new URL("./worker.ts", import.meta.url),
      services,
      registry,
      unrouted,
      stats,
      start: () => ({ config: parts.config(), pair: listeners?.tls?.served }),
      log,
      now,
    });
  }
  const sink = peers ? announcing(services.sink, () => peers?.changed()) : services.sink;
  const reload = serializeReloads(async () => {
    const result = await reloadFrom({
      services,
      resilience,
      log,
      source: options.configSource ??
        (() => Promise.resolve({ ok: false, errors: ["no config file to reload from"] } as ConfigResult)),
      current: parts.config,
      swap: parts.swap,
      prepare: async (next) => {
        const tls = listeners?.tls;
        if (next.tls && tls) {
          const error = await tls.rotate(next.tls);
          if (error) return [error];
          const rotated = peers ? await peers.rotate(tls.served) : [];
          if (rotated.length > 0) return rotated;
        }
        // Workers open the same path after the owner did, when they take the reloaded config.
        const logError = await accessLog.apply(next.accessLog);
        return logError ? [logError] : [];
      },
    });
    if (result.ok) await peers?.reloaded();
    return result;
  });

  const admin = listenAdmin(
    config.admin.listen,
    createAdminHandler({
      config: parts.config,
      services,
      metrics,
      log,
      reload: options.configSource ? reload : undefined,
      unrouted,
      cluster: peers,
    }),
    log,
  );
  try {
    await warmUp(services, sink, docker, config, options.discoveryWaitMs ?? 2_000, log);
    listeners = await openPublic(parts, { log, now, share: peers ? "open" : undefined });
    // Port 0 means "any free port": record the port actually bound, so a reload of the same file
    // compares against the address in use, and workers join the same port.
    const { proxy, tls } = listeners;
    const current = parts.config();
    parts.swap({
      ...current,
      listen: { ...current.listen, port: proxy.addr.port },
      admin: { ...current.admin, listen: { ...current.admin.listen, port: admin.addr.port } },
      tls: current.tls && tls
        ? { ...current.tls, listen: { ...current.tls.listen, port: tls.server.addr.port } }
        : null,
    });
    await peers?.start().catch((e) => {
      throw e instanceof ListenError ? e : new ListenError((e as Error).message);
    });
  } catch (e) {
    listeners?.tls?.server.close();
    listeners?.proxy.close();
    services.stop();
    client.close();
    await docker.close();
    await admin.shutdown();
    await accessLog.close();
    throw e;
  }
  const { proxy, tls } = listeners;
  log("info", "listening", {
    proxy: `${proxy.addr.hostname}:${proxy.addr.port}`,
    admin: `${admin.addr.hostname}:${admin.addr.port}`,
    tls: tls
      ? `${tls.server.addr.hostname}:${tls.server.addr.port}${
        parts.config().tls?.http2 ? " (h2, http/1.1)" : ""
      }`
      : undefined,
    services: services.all().map((s) => `${s.name}:${s.balancer.strategy}`).join(","),
    workers: isolates > 1 ? isolates : undefined,
  });

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      const inFlight = services.all().reduce(
        (n, s) => n + s.pool.all().reduce((m, b) => m + b.inFlight, 0),
        0,
      );
      log("info", "shutting down", { in_flight: inFlight, workers: isolates > 1 ? isolates : undefined });
      const timeoutMs = parts.config().shutdownTimeoutMs;
      await Promise.all([drainAll(listeners, timeoutMs, log), peers?.shutdown(timeoutMs)]);
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
    sink,
    workers: isolates,
    restartWorker: async (worker) => {
      if (!peers) throw new RangeError("Cannot restart a worker: this proxy runs one isolate (workers: 1)");
      await peers.restart(worker);
    },
    config: parts.config,
    reload,
    reopenLogs: async () => {
      await Promise.all([accessLog.reopen(), peers?.reopenLogs()]);
    },
    shutdown,
  };
}

/** A sink that says so after every change it passes on (workers take discovered backends from the owner). */
function announcing(sink: DiscoverySink, changed: () => void): DiscoverySink {
  return {
    upsert(spec) {
      sink.upsert(spec);
      changed();
    },
    remove(spec) {
      sink.remove(spec);
      changed();
    },
  };
}

/** One reload at a time: a second SIGHUP during a reload waits for it, then reads the file again. */
function serializeReloads(reload: () => Promise<ReloadResult>): () => Promise<ReloadResult> {
  let reloading: Promise<ReloadResult> | undefined;
  return async () => {
    while (reloading) await reloading.catch(() => {});
    reloading = reload();
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
  sink: DiscoverySink,
  docker: DockerLink,
  config: Config,
  discoveryWaitMs: number,
  log: Logger,
): Promise<void> {
  await startDiscovery(docker, sink, config, discoveryWaitMs, log);
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
