/**
 * One upstream server and its live state.
 *
 * The object is what strategies see (it implements {@linkcode Candidate}) and what the shell
 * mutates: health state, in-flight count and counters. All mutation happens in synchronous code
 * on one thread, so a pick and its in-flight increment can never interleave with another pick.
 *
 * @module
 */

import type { Candidate } from "../algorithms/types.ts";

/**
 * Lifecycle states. `unknown` until the first health check answers; only `healthy` backends
 * are eligible. `draining` backends finish in-flight requests but take no new ones.
 */
export type BackendState = "unknown" | "healthy" | "unhealthy" | "draining";

/** A backend as the pool holds it. */
export class Backend implements Candidate {
  readonly id: number;
  readonly name: string;
  /** Origin, e.g. `http://127.0.0.1:9001`. */
  readonly url: string;
  readonly hostname: string;
  readonly port: number;
  readonly secure: boolean;
  /** Configured weight. */
  configuredWeight: number;
  state: BackendState = "unknown";
  inFlight = 0;
  /** Requests completed (any outcome) since start. */
  requests = 0;
  /** Requests that failed upstream (connect, reset, timeout) or answered 5xx. */
  errors = 0;
  /** Consecutive active health check results, for thresholds. */
  healthOk = 0;
  healthFail = 0;
  /** Last health check failure reason, for the API. */
  lastHealthError = "";

  constructor(id: number, name: string, url: string, weight: number) {
    this.id = id;
    this.name = name;
    this.url = url;
    const u = new URL(url);
    this.secure = u.protocol === "https:";
    this.hostname = u.hostname.replace(/^\[|\]$/g, "");
    this.port = u.port ? Number(u.port) : this.secure ? 443 : 80;
    this.configuredWeight = weight;
  }

  /** Effective weight seen by strategies. */
  get weight(): number {
    return this.configuredWeight;
  }

  /** JSON view for the admin API. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      url: this.url,
      weight: this.configuredWeight,
      state: this.state,
      in_flight: this.inFlight,
      requests: this.requests,
      errors: this.errors,
      last_health_error: this.lastHealthError || undefined,
    };
  }
}
