/**
 * Wiring: builds the pool, balancer, health checker and both listeners from a config, and owns
 * graceful shutdown and hot reload. `main.ts` and the tests start the proxy through
 * {@linkcode startLoadBalancer}.
 *
 * @module
 */

import { Registry } from "prom-client";
import type { ResourceStats } from "../../algorithms/mod.ts";
import { createAdminHandler } from "../admin/mod.ts";
import {
  type Backend,
  Balancer,
  ejectionTarget,
  HealthChecker,
  type MembershipTarget,
  Pool,
  reloadFrom,
  type ReloadResult,
} from "../pool/mod.ts";
import { type Config, type ConfigResult, formatDuration, needsDocker } from "../config/mod.ts";
import {
  type DiscoverySink,
  type DockerApi,
  lazyDocker,
  poolSink,
  startDiscovery,
  warnIfBlind,
} from "../docker/mod.ts";
import { consoleLogger, type Logger } from "../base/mod.ts";
import { Metrics, ResilienceMetrics, StatsWindow } from "../metrics/mod.ts";
import { OutlierDetector, RetryBudget, type SlowStartClock, WaitQueue } from "../resilience/mod.ts";
import { createProxyHandler } from "../proxy/mod.ts";
import { serveHttp1, textResponse } from "../listener/mod.ts";
import { UpstreamClient } from "../upstream/mod.ts";

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
  const random = options.random ?? Math.random;
  const registry = options.registry ?? new Registry();
  const metrics = new Metrics(registry, options.processMetrics ?? true);
  const stats = new StatsWindow({ now });
  metrics.addObserver(stats);
  const queue = new WaitQueue(config.queue.max);
  const resilience = new ResilienceMetrics(registry, () => queue.length);
  const slowStart: SlowStartClock = { now, windowMs: config.slowStartMs };
  const pool = new Pool(config.backends, { slowStart });
  metrics.observePool(() => [...pool.all(), ...pool.retiring()]);
  // Docker is connected on first need only (lib/docker/link.ts).
  const docker = lazyDocker({
    socket: () => current.discovery.docker.socket,
    docker: options.docker,
    registry,
    log,
    now,
  });
  const balancer = new Balancer(pool, metrics, config.strategy, {
    random,
    now,
    tuning: config.tuning,
    stats: options.stats ?? docker.stats,
  });
  for (const b of pool.all()) {
    metrics.addBackend(b.name, balancer.strategy);
    resilience.addBackend(b.name);
  }
  const client = new UpstreamClient({ now });
  pool.onStateChange((b, from, to) => {
    const level = to === "healthy" || from === "unknown" && to !== "unhealthy" ? "info" : "warn";
    const ejected = to === "ejected";
    log(level, "backend state changed", {
      backend: b.name,
      from,
      to,
      reason: ejected ? "consecutive failed requests" : health.status(b).lastError || undefined,
      ejected_for: ejected ? formatDuration(outliers.status(b).ejectedUntil - now()) : undefined,
    });
  });
  pool.onCapacity(() => queue.wakeOne());
  pool.onRetired((b) => {
    if (pool.get(b.name)) return;
    void metrics.removeBackend(b.name);
    void resilience.removeBackend(b.name);
    client.forget(b);
    log("info", "backend removed", { backend: b.name });
  });
  const health = new HealthChecker(pool, config.healthCheck, metrics, { now });
  const membership: MembershipTarget = { pool, balancer, health, metrics, resilience, containers: docker };
  const sink = poolSink(membership, log);
  if (needsDocker(config)) docker.connect();
  for (const b of pool.all()) if (b.container !== undefined) docker.track(b.name, b.container);
  const budget = new RetryBudget({
    ratio: config.retries.budget,
    minPerSecond: config.retries.minPerSecond,
    now,
  });
  const outliers = new OutlierDetector<Backend>({
    target: ejectionTarget(pool),
    config: () => current.passive,
    now,
    onEject: (b) => resilience.ejections.inc({ backend: b.name }),
  });

  const reloader = {
    target: { ...membership, budget, queue, slowStart },
    log,
    source: options.configSource ??
      (() => Promise.resolve({ ok: false, errors: ["no config file to reload from"] } as ConfigResult)),
    current: () => current,
    swap: (next: Config) => void (current = next),
  };
  let reloading: Promise<ReloadResult> | undefined;
  // One reload at a time: a second SIGHUP during a reload waits for it, then reads the file again.
  const reload = async (): Promise<ReloadResult> => {
    while (reloading) await reloading.catch(() => {});
    reloading = reloadFrom(reloader);
    try {
      return await reloading;
    } finally {
      reloading = undefined;
    }
  };

  const onError = (error: unknown) => {
    log("error", "unexpected error while handling a request", { error: String(error) });
    return new Response("500 Internal Server Error\n", { status: 500 });
  };
  const admin = Deno.serve(
    {
      hostname: config.admin.listen.hostname,
      port: config.admin.listen.port,
      onListen: () => {},
      onError,
    },
    createAdminHandler({
      config: () => current,
      balancer,
      metrics,
      health,
      outliers,
      log,
      reload: options.configSource ? reload : undefined,
      stats,
    }),
  );

  await startDiscovery(docker, sink, config, options.discoveryWaitMs ?? 2_000, log);
  warnIfBlind(config, pool, log);
  await health.firstRound();
  health.start();
  pool.markStarted();
  const eligible = pool.eligible().length;
  log(eligible > 0 ? "info" : "warn", "first health check round done", {
    eligible,
    total: pool.all().length,
  });

  const proxy = serveHttp1(
    {
      hostname: config.listen.hostname,
      port: config.listen.port,
      headerTimeoutMs: () => current.timeouts.clientHeaderMs,
      idleTimeoutMs: () => current.timeouts.clientIdleMs,
      onError: (error) => {
        log("error", "unexpected error while handling a request", { error: String(error) });
        return textResponse(500, "Internal Server Error");
      },
    },
    createProxyHandler({
      config: () => current,
      balancer,
      client,
      metrics,
      resilience,
      budget,
      outliers,
      queue,
      now,
    }),
  );
  const proxyAddr = proxy.addr;
  const adminAddr = admin.addr as Deno.NetAddr;
  // Port 0 means "any free port": record the port actually bound, so a reload of the same file
  // compares against the address in use.
  current = {
    ...current,
    listen: { ...current.listen, port: proxyAddr.port },
    admin: { ...current.admin, listen: { ...current.admin.listen, port: adminAddr.port } },
  };
  log("info", "listening", {
    proxy: `${proxyAddr.hostname}:${proxyAddr.port}`,
    admin: `${adminAddr.hostname}:${adminAddr.port}`,
    strategy: balancer.strategy,
  });

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      log("info", "shutting down", { in_flight: pool.all().reduce((n, b) => n + b.inFlight, 0) });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), current.shutdownTimeoutMs);
      });
      const outcome = await Promise.race([proxy.shutdown().then(() => "drained" as const), deadline]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        log("warn", "shutdown timeout reached; closing remaining connections");
        proxy.close();
      }
      queue.clear();
      outliers.stop();
      health.stop();
      client.close();
      await docker.close();
      await admin.shutdown();
    })();

  return {
    proxyAddr,
    adminAddr,
    pool,
    balancer,
    metrics,
    health,
    outliers,
    sink,
    stats,
    config: () => current,
    reload,
    shutdown,
  };
}
