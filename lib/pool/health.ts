/**
 * Active health checks: `GET health_check.path` on every backend every `interval`.
 *
 * Thresholds (`healthy_threshold`, `unhealthy_threshold`) keep one lost probe from flapping a
 * backend. A backend's very first result decides its state at once (as Envoy does for new hosts),
 * so startup needs one round, not `healthy_threshold` rounds. State changes are logged once by
 * the pool's listener, never once per check.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import type { HealthCheckConfig } from "../config/mod.ts";
import type { Metrics } from "../metrics/mod.ts";
import type { Pool } from "./pool.ts";

/** Outcome of one probe. */
export interface ProbeResult {
  readonly ok: boolean;
  /** Why it failed (status, timeout, connection error), empty when ok. */
  readonly reason: string;
}

/** Runs the probes and applies their results to the pool. */
export class HealthChecker {
  #pool: Pool;
  #config: HealthCheckConfig;
  #metrics: Metrics;
  // Keyed by object, not name: a reload may replace a backend by a new one of the same name.
  #timers = new Map<Backend, ReturnType<typeof setTimeout>>();
  #client = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
  #stopped = false;

  constructor(pool: Pool, config: HealthCheckConfig, metrics: Metrics) {
    this.#pool = pool;
    this.#config = config;
    this.#metrics = metrics;
  }

  /** Use new settings (reload); the next probe of each backend uses them. */
  configure(config: HealthCheckConfig): void {
    this.#config = config;
  }

  /** Probe one backend once, bounded by `timeout`. */
  async probe(backend: Backend): Promise<ProbeResult> {
    const url = backend.url + this.#config.path;
    try {
      const res = await fetch(url, {
        client: this.#client,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#config.timeoutMs),
        headers: { "user-agent": "lb-health-check" },
      });
      await res.body?.cancel();
      const ok = this.#config.expectedStatus.some(([lo, hi]) => res.status >= lo && res.status <= hi);
      return { ok, reason: ok ? "" : `status ${res.status}` };
    } catch (e) {
      const name = (e as Error).name;
      return {
        ok: false,
        reason: name === "TimeoutError" ? "timeout" : `connection failed: ${(e as Error).message}`,
      };
    }
  }

  /** Probe a backend and apply the result with the thresholds. */
  async check(backend: Backend): Promise<void> {
    const result = await this.probe(backend);
    if (this.#stopped || this.#pool.get(backend.name) !== backend) return;
    this.#metrics.healthChecks.inc({ backend: backend.name, result: result.ok ? "success" : "failure" });
    this.apply(backend, result);
  }

  /** Apply one probe result to a backend's counters and state. */
  apply(backend: Backend, result: ProbeResult): void {
    backend.lastHealthError = result.reason;
    if (result.ok) {
      backend.healthOk++;
      backend.healthFail = 0;
    } else {
      backend.healthFail++;
      backend.healthOk = 0;
    }
    const { healthyThreshold, unhealthyThreshold } = this.#config;
    if (backend.state === "unknown") {
      this.#pool.setState(backend, result.ok ? "healthy" : "unhealthy");
    } else if (
      (backend.state === "healthy" || backend.state === "ejected") && backend.healthFail >= unhealthyThreshold
    ) {
      // An ejected backend that also fails its checks is handed over to them: it returns after
      // `healthy_threshold` passing checks, not when the ejection time ends.
      this.#pool.setState(backend, "unhealthy");
    } else if (backend.state === "unhealthy" && backend.healthOk >= healthyThreshold) {
      this.#pool.setState(backend, "healthy");
    }
  }

  /** Probe every backend once, in parallel; resolves within about one `timeout`. */
  async firstRound(): Promise<void> {
    await Promise.all(this.#pool.all().map((b) => this.check(b)));
  }

  /** Start the periodic probes of every backend currently in the pool. */
  start(): void {
    for (const b of this.#pool.all()) this.watch(b);
  }

  /** Start probing one backend (for backends added at run time), first probe at once. */
  watch(backend: Backend, delayMs = this.#config.intervalMs): void {
    if (this.#stopped || this.#timers.has(backend)) return;
    const loop = async () => {
      if (this.#pool.get(backend.name) !== backend) return void this.#timers.delete(backend);
      await this.check(backend);
      if (this.#stopped || this.#pool.get(backend.name) !== backend) {
        return void this.#timers.delete(backend);
      }
      this.#timers.set(backend, setTimeout(loop, this.#config.intervalMs));
    };
    this.#timers.set(backend, setTimeout(loop, delayMs));
  }

  /** Stop every probe; in-progress probes finish but are not applied. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#client.close();
  }
}
