/**
 * A service: one named pool of backends and everything that decides and accounts for its
 * traffic (balancer, health checks, passive health, retry budget, wait queue, slow start), wired
 * to each other and to the process's metrics under the service's label.
 *
 * Services share only the upstream client (idle connections are kept per backend anyway), the
 * metrics registry and the Docker link; everything with state is the service's own, so one
 * service's failures never spend another's retry budget or fill its queue.
 *
 * @module
 */

import type { ResourceStats } from "../../algorithms/mod.ts";
import type { Logger } from "../base/mod.ts";
import { formatDuration, type ServiceConfig } from "../config/mod.ts";
import {
  type Metrics,
  type ResilienceMetrics,
  type ServiceMetrics,
  type ServiceResilienceMetrics,
  StatsWindow,
} from "../metrics/mod.ts";
import { createHashKey, type HashKeyFunction } from "../net/mod.ts";
import {
  applyServiceConfig,
  type Backend,
  type BackendState,
  Balancer,
  type ContainerTracker,
  ejectionTarget,
  HealthChecker,
  leaveBackend,
  Pool,
  type PoolReport,
  type ReloadTarget,
} from "../pool/mod.ts";
import { OutlierDetector, RetryBudget, type SlowStartClock, WaitQueue } from "../resilience/mod.ts";
import type { UpstreamClient } from "../upstream/mod.ts";

/** What every service shares: the clock, randomness, the log, the metrics and the client. */
export interface ServiceRuntime {
  readonly log: Logger;
  readonly now: () => number;
  readonly random: () => number;
  readonly metrics: Metrics;
  readonly resilience: ResilienceMetrics;
  readonly client: UpstreamClient;
  /** Container stats, tracked under `service/backend` keys. */
  readonly containers: ContainerTracker & { readonly stats: ResourceStats };
  /** CIDRs whose `X-Forwarded-For` is believed (global, read when the hash key is built). */
  readonly trustedProxies: () => readonly string[];
  /** Hears every backend state change of every service (the owner isolate tells the workers). */
  readonly onStateChange?: (service: Service, backend: Backend) => void;
  /**
   * Set in a worker isolate (`workers` > 1): backend state is the owner isolate's, mirrored here
   * (lib/cluster/). The health checker sends no probes, a backend that fails
   * `passive.consecutive_failures` requests here is handed to `eject` (the owner decides and
   * ejects it everywhere), and state changes are not logged again (the owner logs them).
   */
  readonly mirror?: { readonly eject: (service: string, backend: Backend) => void };
}

/** One service's parts; see the module documentation. */
export class Service implements ReloadTarget {
  readonly name: string;
  readonly pool: Pool;
  readonly balancer: Balancer;
  readonly health: HealthChecker;
  readonly outliers: OutlierDetector<Backend>;
  readonly budget: RetryBudget;
  readonly queue: WaitQueue;
  readonly slowStart: SlowStartClock;
  readonly metrics: ServiceMetrics;
  readonly resilience: ServiceResilienceMetrics;
  /** The last minute per backend, for the status page and `/api/stats`. */
  readonly stats: StatsWindow;
  readonly containers: ContainerTracker;
  #config: ServiceConfig;
  #hashKey: HashKeyFunction;
  readonly #rt: ServiceRuntime;

  constructor(config: ServiceConfig, rt: ServiceRuntime) {
    const { name } = config;
    const { log, now } = rt;
    this.name = name;
    this.#rt = rt;
    this.#config = config;
    this.#hashKey = this.#buildKey();
    this.queue = new WaitQueue(config.queue.max);
    this.slowStart = { now, windowMs: config.slowStartMs };
    const pool = this.pool = new Pool(config.backends, { slowStart: this.slowStart });
    this.metrics = rt.metrics.service(name, () => [...pool.all(), ...pool.retiring()]);
    this.resilience = rt.resilience.service(name, () => this.queue.length);
    this.stats = new StatsWindow({ now });
    this.metrics.addObserver(this.stats);
    const key = (backend: string) => `${name}/${backend}`;
    this.containers = {
      track: (backend, container) => rt.containers.track(key(backend), container),
      untrack: (backend) => rt.containers.untrack(key(backend)),
    };
    this.balancer = new Balancer(pool, this.metrics, config.strategy, {
      random: rt.random,
      now,
      tuning: config.tuning,
      stats: { get: (backend) => rt.containers.stats.get(key(backend)) },
    });
    for (const b of pool.all()) {
      this.metrics.addBackend(b.name, this.balancer.strategy);
      this.resilience.addBackend(b.name);
      if (b.container !== undefined) this.containers.track(b.name, b.container);
    }
    const mirror = rt.mirror;
    this.health = new HealthChecker(pool, config.healthCheck, this.metrics, { now, active: !mirror });
    this.outliers = new OutlierDetector<Backend>({
      target: ejectionTarget(pool),
      config: () => this.#config.passive,
      now,
      onEject: (b) => this.resilience.ejected(b.name),
      decide: mirror && ((b) => mirror.eject(name, b)),
    });
    this.budget = new RetryBudget({
      ratio: config.retries.budget,
      minPerSecond: config.retries.minPerSecond,
      now,
    });
    const heard = rt.onStateChange;
    if (heard) pool.onStateChange((b) => heard(this, b));
    if (!mirror) pool.onStateChange((b, from, to) => this.#logState(b, from, to));
    pool.onCapacity(() => this.queue.wakeOne());
    pool.onRetired((b) => {
      if (pool.get(b.name)) return;
      void this.metrics.removeBackend(b.name);
      void this.resilience.removeBackend(b.name);
      rt.client.forget(b);
      log("info", "backend removed", { service: name, backend: b.name });
    });
  }

  /** Log a state change once, with what explains it. */
  #logState(b: Backend, from: BackendState, to: BackendState): void {
    const { name } = this;
    const { log, now } = this.#rt;
    if (from === "unknown" && to === "unhealthy") {
      // Said once, with what was checked: a backend that never becomes healthy is the usual
      // first-run puzzle (a server without the health path answers 404 to it).
      const reason = this.health.status(b).lastError;
      const status = reason.startsWith("status ");
      return log("warn", "backend unhealthy from its first check; no traffic until it passes", {
        service: name,
        backend: b.name,
        check: `${this.health.target} on ${b.url}`,
        reason,
        expected: status ? describeStatuses(this.#config.healthCheck.expectedStatus) : undefined,
        hint: status ? "set health_check.path (or expected_status) to what it answers" : undefined,
      });
    }
    const ejected = to === "ejected";
    log(to === "healthy" || from === "unknown" ? "info" : "warn", "backend state changed", {
      service: name,
      backend: b.name,
      from,
      to,
      reason: ejected ? "consecutive failed requests" : this.health.status(b).lastError || undefined,
      ejected_for: ejected ? formatDuration(this.outliers.status(b).ejectedUntil - now()) : undefined,
    });
  }

  /** The service's config in effect (changes on reload). */
  get config(): ServiceConfig {
    return this.#config;
  }

  /** The affinity key function of `hash.key` (rebuilt when a reload changes it). */
  get hashKey(): HashKeyFunction {
    return this.#hashKey;
  }

  #buildKey(): HashKeyFunction {
    return createHashKey({ key: this.#config.hash.key, trustedProxies: this.#rt.trustedProxies() });
  }

  /** Apply a reload's config for this service; synchronous, like {@linkcode applyServiceConfig}. */
  apply(next: ServiceConfig): PoolReport {
    const report = applyServiceConfig(this, this.#config, next);
    this.#config = next;
    this.#hashKey = this.#buildKey();
    return report;
  }

  /**
   * The service was removed from the config: every backend leaves (in-flight requests finish),
   * probes stop, and its series go once the last request ended.
   */
  retire(): void {
    for (const b of [...this.pool.all()]) leaveBackend(this, b.name);
    this.stop();
    const gone = () => {
      if (this.pool.retiring().length > 0) return;
      void this.#rt.metrics.removeService(this.name);
      void this.#rt.resilience.removeService(this.name);
    };
    this.pool.onRetired(gone);
    gone();
  }

  /** Stop every timer of the service (shutdown, or after {@linkcode retire}). */
  stop(): void {
    this.queue.clear();
    this.outliers.stop();
    this.health.stop();
  }
}

/** `[[200, 399]]` as `200-399`, for messages. */
function describeStatuses(ranges: readonly (readonly [number, number])[]): string {
  return ranges.map(([lo, hi]) => lo === hi ? String(lo) : `${lo}-${hi}`).join(",");
}
