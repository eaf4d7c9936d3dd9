/**
 * Active health checks: `GET health_check.path` on every backend every `interval`.
 *
 * Thresholds (`healthy_threshold`, `unhealthy_threshold`) keep one lost probe from flapping a
 * backend. A backend's very first result decides its state at once (as Envoy does for new hosts),
 * so startup needs one round, not `healthy_threshold` rounds. State changes are logged once by
 * the pool's listener, never once per check.
 *
 * The checker owns its counters (consecutive results, the last failure), as Pingora keeps health
 * beside the backend and written by the checker alone; others read them through
 * {@linkcode HealthChecker.status}. Probes go through an upstream client of their own, the one the
 * proxy uses for requests: the same dialling, framing and error messages, with connections kept
 * apart from the request path's pool. A backend's TLS settings (`backends[].tls`) travel with it
 * as the origin, so probes check its certificate exactly as requests do.
 *
 * @module
 */

import type { HealthCheckConfig } from "../config/mod.ts";
import type { ServiceMetrics } from "../metrics/mod.ts";
import { UpstreamClient } from "../upstream/mod.ts";
import type { Backend } from "./backend.ts";
import type { Pool } from "./pool.ts";

/** Outcome of one probe. */
export interface ProbeResult {
  readonly ok: boolean;
  /** Why it failed (status, timeout, connection error), empty when ok. */
  readonly reason: string;
}

/** What the checker knows of one backend. */
export interface HealthStatus {
  /** Consecutive passing checks (0 after a failure). */
  readonly successes: number;
  /** Consecutive failing checks (0 after a success). */
  readonly failures: number;
  /** Why the last check failed; empty when it passed or none ran yet. */
  readonly lastError: string;
}

/** Options for {@linkcode HealthChecker}. */
export interface HealthCheckerOptions {
  /** Monotonic clock in ms, for the probe client's deadlines. @default performance.now */
  readonly now?: () => number;
  /**
   * Send probes. False in a worker isolate (`workers` > 1): one isolate probes every backend once
   * per interval and sends the states it decides to the others (lib/cluster/), whose checkers then
   * never probe (`firstRound`, `start` and `watch` do nothing). @default true
   */
  readonly active?: boolean;
}

interface Counts {
  successes: number;
  failures: number;
  lastError: string;
}

const NONE: HealthStatus = Object.freeze({ successes: 0, failures: 0, lastError: "" });
const PROBE_HEADERS = ["user-agent", "lb-health-check", "accept", "*/*"];

/** Runs the probes and applies their results to the pool. */
export class HealthChecker {
  #pool: Pool;
  #config: HealthCheckConfig;
  #metrics: ServiceMetrics;
  // Keyed by object, not name: a reload may replace a backend by a new one of the same name.
  #timers = new Map<Backend, ReturnType<typeof setTimeout>>();
  #counts = new WeakMap<Backend, Counts>();
  #client: UpstreamClient;
  #stopped = false;
  readonly #active: boolean;

  constructor(
    pool: Pool,
    config: HealthCheckConfig,
    metrics: ServiceMetrics,
    options: HealthCheckerOptions = {},
  ) {
    this.#pool = pool;
    this.#config = config;
    this.#metrics = metrics;
    this.#client = new UpstreamClient({ now: options.now });
    this.#active = options.active ?? true;
  }

  /** Use new settings (reload); the next probe of each backend uses them. */
  configure(config: HealthCheckConfig): void {
    this.#config = config;
  }

  /** The check this checker runs, for messages: `GET /health`. */
  get target(): string {
    return `GET ${this.#config.path}`;
  }

  /** Consecutive results and the last failure of `backend`. */
  status(backend: Backend): HealthStatus {
    return this.#counts.get(backend) ?? NONE;
  }

  /**
   * Probe one backend once, bounded by `timeout` (connect and response headers together). The
   * probe's `Host` is the name the backend's certificate is checked for (`tls.server_name`)
   * when there is one, else the URL's host: a virtual-hosted TLS backend answers for that name.
   */
  async probe(backend: Backend): Promise<ProbeResult> {
    const { path, timeoutMs, expectedStatus } = this.#config;
    const host = backend.tls?.serverName ??
      (backend.hostname.includes(":") ? `[${backend.hostname}]` : backend.hostname);
    const request = {
      method: "GET",
      target: path,
      headers: ["host", `${host}:${backend.port}`, ...PROBE_HEADERS],
      body: null,
      signal: new AbortController().signal,
    };
    const timeouts = { connectMs: timeoutMs, requestMs: timeoutMs };
    const r = await this.#client.send(backend, request, timeouts, () => {});
    if (!r.ok) return { ok: false, reason: r.kind === "timeout" ? "timeout" : r.message };
    if (r.body instanceof ReadableStream) await r.body.cancel().catch(() => {});
    const ok = expectedStatus.some(([lo, hi]) => r.status >= lo && r.status <= hi);
    return { ok, reason: ok ? "" : `status ${r.status}` };
  }

  /** Probe a backend and apply the result with the thresholds. */
  async check(backend: Backend): Promise<void> {
    const result = await this.probe(backend);
    if (this.#stopped || this.#pool.get(backend.name) !== backend) return;
    this.#metrics.healthCheck(backend.name, result.ok);
    this.apply(backend, result);
  }

  /** Apply one probe result to a backend's counters and state. */
  apply(backend: Backend, result: ProbeResult): void {
    let c = this.#counts.get(backend);
    if (!c) this.#counts.set(backend, c = { successes: 0, failures: 0, lastError: "" });
    c.lastError = result.reason;
    if (result.ok) {
      c.successes++;
      c.failures = 0;
    } else {
      c.failures++;
      c.successes = 0;
    }
    const { healthyThreshold, unhealthyThreshold } = this.#config;
    if (backend.state === "unknown") {
      this.#pool.setState(backend, result.ok ? "healthy" : "unhealthy");
    } else if (
      (backend.state === "healthy" || backend.state === "ejected") && c.failures >= unhealthyThreshold
    ) {
      // An ejected backend that also fails its checks is handed over to them: it returns after
      // `healthy_threshold` passing checks, not when the ejection time ends.
      this.#pool.setState(backend, "unhealthy");
    } else if (backend.state === "unhealthy" && c.successes >= healthyThreshold) {
      this.#pool.setState(backend, "healthy");
    }
  }

  /** The state the checks give `backend` now: healthy when its last check passed. */
  verdict(backend: Backend): "healthy" | "unhealthy" {
    return this.status(backend).successes > 0 ? "healthy" : "unhealthy";
  }

  /** Probe every backend once, in parallel; resolves within about one `timeout`. */
  async firstRound(): Promise<void> {
    if (!this.#active) return;
    await Promise.all(this.#pool.all().map((b) => this.check(b)));
  }

  /** Start the periodic probes of every backend currently in the pool. */
  start(): void {
    for (const b of this.#pool.all()) this.watch(b);
  }

  /** Start probing one backend (for backends added at run time), first probe at once. */
  watch(backend: Backend, delayMs = this.#config.intervalMs): void {
    if (!this.#active || this.#stopped || this.#timers.has(backend)) return;
    const loop = async () => {
      if (this.#pool.get(backend.name) !== backend) return this.#leave(backend);
      await this.check(backend);
      if (this.#stopped || this.#pool.get(backend.name) !== backend) return this.#leave(backend);
      this.#timers.set(backend, setTimeout(loop, this.#config.intervalMs));
    };
    this.#timers.set(backend, setTimeout(loop, delayMs));
  }

  /** A backend left the pool: no more probes, and its connection goes. */
  #leave(backend: Backend): void {
    this.#timers.delete(backend);
    this.#client.forget(backend);
  }

  /** Stop every probe; in-progress probes finish but are not applied. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#client.close();
  }
}
