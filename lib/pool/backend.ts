/**
 * One upstream server and its live state.
 *
 * The object is what strategies see (it implements {@linkcode Candidate}): an address, a weight,
 * a state and the few numbers strategies read. The pool owns the state and the in-flight count,
 * the balancer the request counters; health-check counters belong to the health checker and
 * passive-failure history to the outlier detector, each keyed by this object. All mutation
 * happens in synchronous code on one thread, so a pick and its in-flight increment can never
 * interleave with another pick. A reload keeps the object of a backend whose name, URL and TLS
 * settings stay the same, so its in-flight count, health, passive failure history and every
 * strategy's state survive the reload. The object is also the upstream client's
 * {@linkcode Origin}: idle connections are pooled per object, so a backend replaced for new TLS
 * settings never reuses a connection made under the old ones.
 *
 * @module
 */

import type { Candidate, ProbeSample } from "../../algorithms/mod.ts";
import type { BackendTlsConfig } from "../config/mod.ts";
import { rampFactor, type SlowStartClock } from "../resilience/mod.ts";
import type { Origin, OriginTls } from "../upstream/mod.ts";

/**
 * Lifecycle states. `unknown` until the first health check answers; only `healthy` backends
 * are eligible. `draining` backends finish in-flight requests but take no new ones (set by the
 * admin API, and by a reload that removes the backend). `ejected` backends failed too many
 * requests in a row and sit out an ejection time (passive health).
 */
export type BackendState = "unknown" | "healthy" | "unhealthy" | "draining" | "ejected";

/**
 * Where a backend came from: the config file's `backends` list, or Docker discovery. A reload
 * manages only `config` backends; discovery manages only `discovery` ones.
 */
export type BackendSource = "config" | "discovery";

/** Constructor options for {@linkcode Backend}. */
export interface BackendOptions {
  /** @default "config" */
  source?: BackendSource;
  /** Container whose resource stats describe this backend. */
  container?: string;
  /** Most requests in flight at once. @default Infinity */
  maxConnections?: number;
  /** Clock for slow start. @default slow start off */
  slowStart?: SlowStartClock;
  /** `backends[].tls` of an `https://` backend. @default default roots, verified as the URL's host */
  tls?: BackendTlsConfig;
}

/** A backend as the pool holds it. */
export class Backend implements Candidate, Origin {
  readonly id: number;
  readonly name: string;
  /** Origin, e.g. `http://127.0.0.1:9001`. */
  readonly url: string;
  readonly hostname: string;
  readonly port: number;
  readonly secure: boolean;
  /** CA and server name the upstream client checks the certificate with; undefined: defaults. */
  readonly tls: OriginTls | undefined;
  readonly source: BackendSource;
  /** Container name or id for resource stats; undefined when none. */
  container: string | undefined;
  /** Configured weight. */
  configuredWeight: number;
  /** At this many requests in flight the backend is not eligible (`max_connections`). */
  maxConnections: number;
  state: BackendState = "unknown";
  inFlight = 0;
  /** Requests completed (any outcome) since start. */
  requests = 0;
  /** Requests that failed upstream (connect, reset, timeout) or answered 5xx. */
  errors = 0;
  /** When the slow-start ramp began, or undefined when the weight is full. */
  rampStart: number | undefined;
  /**
   * The backend's answer in the service's probe pool (`prequal`), or undefined: set and cleared by
   * the pool alone (lib/pool/probe_pool.ts).
   */
  probe: ProbeSample | undefined = undefined;
  #slowStart: SlowStartClock | undefined;

  constructor(id: number, name: string, url: string, weight: number, options: BackendOptions = {}) {
    this.id = id;
    this.name = name;
    this.url = url;
    const u = new URL(url);
    this.secure = u.protocol === "https:";
    this.hostname = u.hostname.replace(/^\[|\]$/g, "");
    this.port = u.port ? Number(u.port) : this.secure ? 443 : 80;
    this.configuredWeight = weight;
    this.maxConnections = options.maxConnections ?? Infinity;
    this.#slowStart = options.slowStart;
    this.source = options.source ?? "config";
    this.container = options.container;
    const tls = options.tls;
    this.tls = tls && {
      ...(tls.caPem === undefined ? {} : { caCerts: [tls.caPem] }),
      ...(tls.serverName === undefined ? {} : { serverName: tls.serverName }),
    };
  }

  /**
   * True when `tls` (a backend's config) asks for exactly the certificate checks this backend
   * makes: same server name, same CA certificates (by content, so a CA file rewritten in place is
   * a change).
   */
  sameTls(tls: BackendTlsConfig | undefined): boolean {
    return this.tls?.serverName === tls?.serverName && this.tls?.caCerts?.[0] === tls?.caPem;
  }

  /**
   * Effective weight seen by strategies: the configured weight, reduced while slow start ramps
   * the backend up after it became healthy (see lib/resilience/slow_start.ts).
   */
  get weight(): number {
    if (this.rampStart === undefined || !this.#slowStart) return this.configuredWeight;
    const factor = rampFactor(this.#slowStart.now() - this.rampStart, this.#slowStart.windowMs);
    if (factor >= 1) this.rampStart = undefined;
    return this.configuredWeight * factor;
  }

  /** Start the slow-start ramp now (no-op when slow start is off). */
  startRamp(): void {
    if (this.#slowStart && this.#slowStart.windowMs > 0) this.rampStart = this.#slowStart.now();
  }

  /** True while at `max_connections`: not eligible for another request. */
  get atLimit(): boolean {
    return this.inFlight >= this.maxConnections;
  }
}
