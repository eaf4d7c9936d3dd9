/**
 * Wiring: builds the pool, balancer, health checker and both listeners from a config, and owns
 * graceful shutdown. `main.ts` and the tests start the proxy through {@linkcode startLoadBalancer}.
 *
 * @module
 */

import { Registry } from "prom-client";
import type { ResourceStats } from "../algorithms/types.ts";
import { createAdminHandler } from "./admin.ts";
import { Balancer } from "./balancer.ts";
import type { Config } from "./config.ts";
import { HealthChecker } from "./health.ts";
import { consoleLogger, type Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { Pool } from "./pool.ts";
import { StatsWindow } from "./stats_window.ts";
import { createProxyHandler } from "./proxy.ts";
import { UpstreamClient } from "./upstream.ts";

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
  /** Container resource samples for `least_resources` (the Docker stats collector). */
  stats?: ResourceStats;
}

/** A running proxy. */
export interface LoadBalancer {
  readonly proxyAddr: Deno.NetAddr;
  readonly adminAddr: Deno.NetAddr;
  readonly pool: Pool;
  readonly balancer: Balancer;
  readonly metrics: Metrics;
  readonly health: HealthChecker;
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
 * import { parseConfig } from "./config.ts";
 * import { startLoadBalancer } from "./server.ts";
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
  const random = options.random ?? Math.random;
  const metrics = new Metrics(options.registry ?? new Registry(), options.processMetrics ?? true);
  const stats = new StatsWindow({ now });
  metrics.addObserver(stats);
  const pool = new Pool(config.backends);
  metrics.observePool(() => pool.all());
  const balancer = new Balancer(pool, metrics, config.strategy, {
    random,
    now,
    tuning: config.tuning,
    stats: options.stats,
  });
  for (const b of pool.all()) metrics.addBackend(b.name, balancer.strategy);
  pool.onStateChange((b, from, to) => {
    const level = to === "healthy" || from === "unknown" && to !== "unhealthy" ? "info" : "warn";
    log(level, "backend state changed", {
      backend: b.name,
      from,
      to,
      reason: b.lastHealthError || undefined,
    });
  });
  const health = new HealthChecker(pool, config.healthCheck, metrics);
  const client = new UpstreamClient();

  const onError = (error: unknown) => {
    log("error", "unexpected error while handling a request", { error: String(error) });
    return new Response("500 Internal Server Error\n", { status: 500 });
  };
  const admin = Deno.serve({
    hostname: config.admin.listen.hostname,
    port: config.admin.listen.port,
    onListen: () => {},
    onError,
  }, createAdminHandler({ config: () => config, balancer, metrics, log, stats }));

  await health.firstRound();
  health.start();
  const eligible = pool.eligible().length;
  log(eligible > 0 ? "info" : "warn", "first health check round done", {
    eligible,
    total: pool.all().length,
  });

  const proxy = Deno.serve({
    hostname: config.listen.hostname,
    port: config.listen.port,
    onListen: () => {},
    onError,
  }, createProxyHandler({ config, balancer, client, metrics, now }));
  const proxyAddr = proxy.addr as Deno.NetAddr;
  const adminAddr = admin.addr as Deno.NetAddr;
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
        timer = setTimeout(() => resolve("timeout"), config.shutdownTimeoutMs);
      });
      const outcome = await Promise.race([proxy.shutdown().then(() => "drained" as const), deadline]);
      clearTimeout(timer);
      if (outcome === "timeout") log("warn", "shutdown timeout reached; closing remaining connections");
      health.stop();
      client.close();
      await admin.shutdown();
    })();

  return { proxyAddr, adminAddr, pool, balancer, metrics, health, stats, shutdown };
}
