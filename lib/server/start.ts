/**
 * Wiring: {@linkcode startLoadBalancer} builds the parts (lib/server/parts.ts), opens the admin
 * listener, warms up (discovery, first health round), opens the public listener, and owns graceful
 * shutdown and hot reload. `main.ts` and the tests start the proxy through it.
 *
 * @module
 */

import { Registry } from "prom-client";
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
import type { Backend, Balancer, HealthChecker, Pool, Reloader, ReloadResult } from "../pool/mod.ts";
import { reloadFrom } from "../pool/mod.ts";
import { createProxyHandler } from "../proxy/mod.ts";
import type { OutlierDetector } from "../resilience/mod.ts";
import { listenAdmin, listenPublic } from "./listen.ts";
import { createPoolParts, type PoolParts, type Runtime, stopPoolParts } from "./parts.ts";

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
}

/** A running proxy. */
export interface LoadBalancer {
  readonly proxyAddr: Deno.NetAddr;
  readonly adminAddr: Deno.NetAddr;
  readonly pool: Pool;
  readonly balancer: Balancer;
  readonly metrics: Metrics;
  readonly health: HealthChecker;
  /** Passive health: consecutive failures and ejections per backend. */
  readonly outliers: OutlierDetector<Backend>;
  /**
   * Where discovered backends enter and leave (Docker discovery feeds it when enabled). They are
   * probed before they get traffic, drain when removed, and survive config reloads.
   */
  readonly sink: DiscoverySink;
  /** The config in effect (changes on reload). */
  config(): Config;
  /** Re-read the config source and apply it; the running config stays on any error. */
  reload(): Promise<ReloadResult>;
  /** Last minute of per-backend requests, for the status page and `/api/stats`. */
  readonly stats: StatsWindow;
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
  const stats = new StatsWindow({ now });
  metrics.addObserver(stats);
  const rt: Runtime = {
    log,
    now,
    random: options.random ?? Math.random,
    metrics,
    resilience: new ResilienceMetrics(registry, () => parts.queue.length),
  };
  // Docker is connected on first need only (lib/docker/link.ts).
  const docker = lazyDocker({
    socket: () => current.discovery.docker.socket,
    docker: options.docker,
    registry,
    log,
    now,
  });
  const parts = createPoolParts(config, () => current, rt, docker, options.stats ?? docker.stats);
  if (needsDocker(config)) docker.connect();
  const reload = serializeReloads({
    target: parts,
    log,
    source: options.configSource ??
      (() => Promise.resolve({ ok: false, errors: ["no config file to reload from"] } as ConfigResult)),
    current: () => current,
    swap: (next: Config) => void (current = next),
  });

  const admin = listenAdmin(
    config.admin.listen,
    createAdminHandler({
      config: () => current,
      balancer: parts.balancer,
      metrics,
      health: parts.health,
      outliers: parts.outliers,
      log,
      reload: options.configSource ? reload : undefined,
      stats,
    }),
    log,
  );
  let proxy: Http1Server;
  try {
    await warmUp(parts, docker, config, options.discoveryWaitMs ?? 2_000, log);
    proxy = listenPublic(config.listen, createProxyHandler({ ...parts, config: () => current, now }), {
      headerTimeoutMs: () => current.timeouts.clientHeaderMs,
      idleTimeoutMs: () => current.timeouts.clientIdleMs,
      log,
      now,
    });
  } catch (e) {
    stopPoolParts(parts);
    await docker.close();
    await admin.shutdown();
    throw e;
  }
  // Port 0 means "any free port": record the port actually bound, so a reload of the same file
  // compares against the address in use.
  current = {
    ...current,
    listen: { ...current.listen, port: proxy.addr.port },
    admin: { ...current.admin, listen: { ...current.admin.listen, port: admin.addr.port } },
  };
  log("info", "listening", {
    proxy: `${proxy.addr.hostname}:${proxy.addr.port}`,
    admin: `${admin.addr.hostname}:${admin.addr.port}`,
    strategy: parts.balancer.strategy,
  });

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      log("info", "shutting down", { in_flight: parts.pool.all().reduce((n, b) => n + b.inFlight, 0) });
      await drain(proxy, current.shutdownTimeoutMs, log);
      stopPoolParts(parts);
      await docker.close();
      await admin.shutdown();
    })();

  return {
    proxyAddr: proxy.addr,
    adminAddr: admin.addr,
    pool: parts.pool,
    balancer: parts.balancer,
    metrics,
    health: parts.health,
    outliers: parts.outliers,
    sink: parts.sink,
    stats,
    config: () => current,
    reload,
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
  parts: PoolParts,
  docker: DockerLink,
  config: Config,
  discoveryWaitMs: number,
  log: Logger,
): Promise<void> {
  await startDiscovery(docker, parts.sink, config, discoveryWaitMs, log);
  warnIfBlind(config, parts.pool, log);
  await parts.health.firstRound();
  parts.health.start();
  parts.pool.markStarted();
  const eligible = parts.pool.eligible().length;
  log(eligible > 0 ? "info" : "warn", "first health check round done", {
    eligible,
    total: parts.pool.all().length,
  });
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
