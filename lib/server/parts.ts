/**
 * The parts that serve one pool of backends, built from a config: the pool and its balancer,
 * health checks, passive health, the retry budget, the wait queue and slow start, wired to each
 * other and to the process's metrics, and the upstream client that dials the backends.
 *
 * @module
 */

import type { ResourceStats } from "../../algorithms/mod.ts";
import type { Logger } from "../base/mod.ts";
import { type Config, formatDuration } from "../config/mod.ts";
import type { DiscoverySink, DockerLink } from "../docker/mod.ts";
import { poolSink } from "../docker/mod.ts";
import type { Metrics, ResilienceMetrics } from "../metrics/mod.ts";
import {
  type Backend,
  Balancer,
  ejectionTarget,
  HealthChecker,
  type MembershipTarget,
  Pool,
  type ReloadTarget,
} from "../pool/mod.ts";
import { OutlierDetector, RetryBudget, type SlowStartClock, WaitQueue } from "../resilience/mod.ts";
import { UpstreamClient } from "../upstream/mod.ts";

/** What every part shares: the clock, randomness, the log and the metrics. */
export interface Runtime {
  readonly log: Logger;
  readonly now: () => number;
  readonly random: () => number;
  readonly metrics: Metrics;
  readonly resilience: ResilienceMetrics;
}

/** One pool of backends and everything that decides and accounts for its traffic. */
export interface PoolParts extends ReloadTarget {
  readonly outliers: OutlierDetector<Backend>;
  readonly client: UpstreamClient;
  /** Where discovered backends join and leave, through the same path as a reload's. */
  readonly sink: DiscoverySink;
}

/**
 * Build the parts for `config`. `current` is the config in effect, read by parts that follow
 * reloads without being told (passive health); `docker` tracks containers and supplies stats.
 */
export function createPoolParts(
  config: Config,
  current: () => Config,
  rt: Runtime,
  docker: DockerLink,
  stats: ResourceStats,
): PoolParts {
  const { log, now, metrics, resilience } = rt;
  const queue = new WaitQueue(config.queue.max);
  const slowStart: SlowStartClock = { now, windowMs: config.slowStartMs };
  const pool = new Pool(config.backends, { slowStart });
  const balancer = new Balancer(pool, metrics, config.strategy, {
    random: rt.random,
    now,
    tuning: config.tuning,
    stats,
  });
  for (const b of pool.all()) {
    metrics.addBackend(b.name, balancer.strategy);
    resilience.addBackend(b.name);
  }
  const client = new UpstreamClient({ now });
  const health = new HealthChecker(pool, config.healthCheck, metrics, { now });
  const outliers = new OutlierDetector<Backend>({
    target: ejectionTarget(pool),
    config: () => current().passive,
    now,
    onEject: (b) => resilience.ejections.inc({ backend: b.name }),
  });
  const budget = new RetryBudget({
    ratio: config.retries.budget,
    minPerSecond: config.retries.minPerSecond,
    now,
  });

  pool.onStateChange((b, from, to) => {
    if (from === "unknown" && to === "unhealthy") {
      // Said once, with what was checked: a backend that never becomes healthy is the usual
      // first-run puzzle (a server without the health path answers 404 to it).
      const reason = health.status(b).lastError;
      return log("warn", "backend unhealthy from its first check; no traffic until it passes", {
        backend: b.name,
        check: `${health.target} on ${b.url}`,
        reason,
        expected: reason.startsWith("status ")
          ? describeStatuses(current().healthCheck.expectedStatus)
          : undefined,
        hint: reason.startsWith("status ")
          ? "set health_check.path (or expected_status) to what it answers"
          : undefined,
      });
    }
    const level = to === "healthy" || from === "unknown" ? "info" : "warn";
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
  metrics.observePool(() => [...pool.all(), ...pool.retiring()]);
  for (const b of pool.all()) if (b.container !== undefined) docker.track(b.name, b.container);

  const membership: MembershipTarget = { pool, balancer, health, metrics, resilience, containers: docker };
  return {
    ...membership,
    outliers,
    budget,
    queue,
    slowStart,
    client,
    sink: poolSink(membership, log),
  };
}

/** Stop every timer and connection of the parts (after the listener drained). */
export function stopPoolParts(p: PoolParts): void {
  p.queue.clear();
  p.outliers.stop();
  p.health.stop();
  p.client.close();
}

/** `[[200, 399]]` as `200-399`, for messages. */
function describeStatuses(ranges: readonly (readonly [number, number])[]): string {
  return ranges.map(([lo, hi]) => lo === hi ? String(lo) : `${lo}-${hi}`).join(",");
}
