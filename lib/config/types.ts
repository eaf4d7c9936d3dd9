/**
 * The validated configuration's types: what every layer above reads from `config.yml`.
 *
 * Kept apart from the parser so the field readers and the sections can name these types without
 * importing the parser that imports them.
 *
 * @module
 */

import type { StrategyTuning } from "../../algorithms/mod.ts";
import type { HostPattern } from "../net/mod.ts";
import type { WorkersSetting } from "./workers.ts";

/** A `host:port` listener address. */
export interface ListenAddress {
  readonly hostname: string;
  readonly port: number;
}

/** One configured backend. */
export interface BackendConfig {
  /** Unique name, `[a-z0-9_.-]+`. */
  readonly name: string;
  /** Origin only: `http://host:port` (no path, query or credentials). */
  readonly url: string;
  /** Positive integer weight. */
  readonly weight: number;
  /** Most requests in flight at once; absent means no limit. */
  readonly maxConnections?: number;
  /** Docker container name or id whose resource stats `least_resources` reads; absent: none. */
  readonly container?: string;
  /** `tls`: certificate checks of an `https://` backend; absent: default roots, URL's host name. */
  readonly tls?: BackendTlsConfig;
}

/**
 * `backends[].tls`: how an `https://` backend's certificate is checked. At least one key is set
 * (an empty `tls` is no settings at all, and reads as absent).
 */
export interface BackendTlsConfig {
  /** `tls.ca`, resolved against the config file's directory; absent: default roots only. */
  readonly ca?: string;
  /** The certificates of that file (PEM), read when the config was loaded; set whenever `ca` is. */
  readonly caPem?: string;
  /** How many certificates `caPem` holds (for the `--check` summary). */
  readonly caCount?: number;
  /** `tls.server_name`, lower case: sent as SNI and verified instead of the URL's host. */
  readonly serverName?: string;
}

/** Active health check settings. */
export interface HealthCheckConfig {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** Inclusive status ranges counted as healthy. */
  readonly expectedStatus: readonly (readonly [number, number])[];
}

/**
 * What every pool of backends is run with: its strategy, health checks and resilience. The top
 * level of `config.yml` gives the defaults; a service overrides any key of them.
 */
export interface ServiceSettings {
  /** Canonical strategy name (aliases resolved). */
  readonly strategy: string;
  readonly healthCheck: HealthCheckConfig;
  readonly retries: RetryConfig;
  readonly passive: PassiveConfig;
  /** Ramp-up window for backends that become healthy; 0 is off. */
  readonly slowStartMs: number;
  readonly queue: QueueConfig;
  /** Affinity key for `ip_hash`: `client_ip`, `header:<Name>` or `cookie:<name>`. */
  readonly hash: { readonly key: string };
  /** Strategy tuning (`peak_ewma`, `least_resources` sections, and `prequal.q_rif`). */
  readonly tuning: StrategyTuning;
  /** How the shell probes backends for `prequal`. */
  readonly prequal: PrequalConfig;
  /** `hedging`: a second attempt for slow idempotent requests; null when off (the default). */
  readonly hedging: HedgingConfig | null;
  /** `sticky`: cookie-based session affinity; null when off (the default). */
  readonly sticky: StickyConfig | null;
}

/** `prequal`: probing for the `prequal` strategy (see lib/config/prequal.ts). */
export interface PrequalConfig {
  /** `GET` target of probes; absent: the service's `health_check.path`. */
  readonly probePath?: string;
  /** Probes sent per request routed, fractions spread evenly. */
  readonly probeRate: number;
  /** Probes never exceed this share of the requests and probes backends receive, 0..1. */
  readonly maxProbeShare: number;
  /** Most probe answers kept. */
  readonly poolSize: number;
  /** The quantile of the pool's RIFs above which a backend is hot (also in `tuning.qRif`). */
  readonly qRif: number;
  /** Probe answers older than this are dropped, ms. */
  readonly maxAgeMs: number;
}

/**
 * When a hedge is sent: a fixed time without response headers, or a percentile of the service's
 * own recent times to response headers (`"p95"`).
 */
export type HedgeDelay =
  | { readonly kind: "fixed"; readonly ms: number }
  | { readonly kind: "percentile"; readonly percentile: number };

/** `hedging`: Dean and Barroso's hedged requests ("The Tail at Scale", CACM 2013). */
export interface HedgingConfig {
  /** How long the first attempt may go without response headers before the hedge is sent. */
  readonly delay: HedgeDelay;
  /** Most hedges as a share of the service's requests over the last 10 s, 0 < ratio <= 1. */
  readonly maxRatio: number;
}

/** `sticky`: a signed cookie that names a client's backend. */
export interface StickyConfig {
  /** Cookie name (an RFC 6265 token). */
  readonly cookie: string;
  /** HMAC-SHA256 key of the cookie's signature; never empty. Replicas sharing it accept each other's cookies. */
  readonly secret: string;
  /** Lifetime of a cookie in ms: its `Max-Age`, and the expiry signed into it. */
  readonly maxAgeMs: number;
}

/** One service: a named pool of backends with its settings (`services.<name>`). */
export interface ServiceConfig extends ServiceSettings {
  /** `[a-z0-9_.-]{1,64}`; a label on every per-backend metric. */
  readonly name: string;
  /** Backend names are unique within a service. */
  readonly backends: readonly BackendConfig[];
}

/** What a route matches; every key given must match, an empty match matches everything. */
export interface RouteMatch {
  readonly host?: HostPattern;
  /** Segment-aware prefix without a trailing slash (`/v1` matches `/v1` and `/v1/x`, not `/v10`). */
  readonly pathPrefix?: string;
  readonly methods?: readonly string[];
  /** `[lower-case name, exact value]` pairs. */
  readonly headers?: readonly (readonly [string, string])[];
}

/** One service of a weighted split. */
export interface SplitTarget {
  readonly service: string;
  /** Positive integer share. */
  readonly weight: number;
}

/** One entry of `routes`, in file order: the first that matches a request wins. */
export interface RouteConfig {
  /** `name`, or `routes[i]` (for logs and errors). */
  readonly name: string;
  readonly match: RouteMatch;
  /** The services traffic goes to: one with weight 1, or a weighted split. */
  readonly targets: readonly SplitTarget[];
  /** The backend sees the path without `match.path_prefix` (`/v1/x` becomes `/x`). */
  readonly stripPrefix: boolean;
}

/** One `tls.certificates[]` entry: a certificate chain file and its key file. */
export interface TlsCertFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** `tls`: a TLS listener of its own, HTTP/1.1 and (by ALPN) HTTP/2. */
export interface TlsConfig {
  readonly listen: ListenAddress;
  /** PEM certificate chain file, read at start and on every reload. */
  readonly certFile: string;
  /** PEM private key file, read with the certificate. */
  readonly keyFile: string;
  /**
   * `tls.certificates`: further pairs, chosen by the server name a client sends (SNI) among the
   * names each certificate is issued for; `cert`/`key` above is the default.
   */
  readonly certificates: readonly TlsCertFiles[];
  /** Offer h2 by ALPN. */
  readonly http2: boolean;
  /** The plain listener answers every request with a 308 to the https URL. */
  readonly redirectHttp: boolean;
}

/** `access_log`: one line per finished request (lib/access_log). */
export interface AccessLogConfig {
  readonly enabled: boolean;
  /** `-` is standard output; otherwise a file appended to, reopened on SIGUSR1. */
  readonly path: string;
  /** `json`: one object per line; `common`: NCSA combined with the proxy's fields appended. */
  readonly format: "json" | "common";
}

/** `trace_context`: W3C Trace Context handling (lib/proxy/trace.ts). */
export interface TraceContextConfig {
  /** Replace `traceparent` with the proxy's span; off: trace headers pass untouched. */
  readonly enabled: boolean;
  /** Start a trace for a request that brings no valid `traceparent`. */
  readonly start: boolean;
}

/** The validated, defaulted configuration. */
export interface Config {
  readonly listen: ListenAddress;
  readonly admin: { readonly listen: ListenAddress; readonly token: string };
  readonly exposeBackendHeader: boolean;
  readonly timeouts: {
    readonly requestMs: number;
    readonly connectMs: number;
    /** A client's request head must arrive in full within this (slowloris); 408 after. */
    readonly clientHeaderMs: number;
    /** A keep-alive client connection with no request in progress is closed after this. */
    readonly clientIdleMs: number;
    /** A tunnel (WebSocket or another upgrade) with no bytes either way is closed after this. */
    readonly tunnelIdleMs: number;
    /** A TLS client that has not finished its handshake by then is cut off. */
    readonly tlsHandshakeMs: number;
  };
  /** The TLS listener, or null without one. */
  readonly tls: TlsConfig | null;
  readonly accessLog: AccessLogConfig;
  readonly traceContext: TraceContextConfig;
  readonly shutdownTimeoutMs: number;
  /** Isolates accepting on the public listeners (`workers`): a count or `auto`; see lib/config/workers.ts. */
  readonly workers: WorkersSetting;
  /** CIDRs whose `X-Forwarded-*` headers are believed. */
  readonly trustedProxies: readonly string[];
  /** Backend discovery (`discovery.docker`); off by default. */
  readonly discovery: { readonly docker: DockerDiscoveryConfig };
  /** The top-level settings: what every service inherits for the keys it does not set. */
  readonly defaults: ServiceSettings;
  /**
   * Every service, in file order. A config with a top-level `backends` list (and no `services`)
   * has one service, `default`, with those backends.
   */
  readonly services: readonly ServiceConfig[];
  /** Routes in file order; the first match wins. One catch-all to the only service when absent. */
  readonly routes: readonly RouteConfig[];
}

/** Result of parsing: a config or every error found. */
export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/**
 * A failure condition, as written in `retries.on` and `passive.on`: `connect_failure`, `reset`
 * (connection broken before response headers), `timeout` (no response headers in time), `5xx`
 * (any 500-599 status) or one status code such as `"503"`.
 */
export type FailureCondition = "connect_failure" | "reset" | "timeout" | "5xx" | `${number}`;

/** `retries`: which failed attempts are tried again, and how many retries the cluster may absorb. */
export interface RetryConfig {
  /** Retries after the first attempt (0 disables retries). */
  readonly attempts: number;
  /** Retries allowed as a share of requests over the last 10 s (Linkerd's retry ratio). */
  readonly budget: number;
  /** Retries always allowed per second on top of the ratio, so low traffic can still retry. */
  readonly minPerSecond: number;
  readonly on: readonly FailureCondition[];
  /** Largest request body buffered so it can be replayed; larger bodies are never retried. */
  readonly maxBodyBytes: number;
}

/** `passive`: eject a backend after consecutive failed requests (Envoy's outlier detection). */
export interface PassiveConfig {
  /** Consecutive failures that eject a backend (0 disables passive health). */
  readonly consecutiveFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectedPercent: number;
  readonly on: readonly FailureCondition[];
}

/** `queue`: requests waiting while every healthy backend is at `max_connections`. */
export interface QueueConfig {
  /** Most requests waiting at once; more are answered 503 at once (0: never wait). */
  readonly max: number;
  readonly timeoutMs: number;
}

/** `discovery.docker`: backends from labelled containers (see docs/docker.md). */
export interface DockerDiscoveryConfig {
  /** @default false */
  readonly enabled: boolean;
  /** Engine socket; also the one the stats collector uses. @default "/var/run/docker.sock" */
  readonly socket: string;
  /** Enabling label, `key` (meaning `key=true`) or `key=value`. @default "lb.enable" */
  readonly label: string;
  /** Label holding the backend port (80 when absent). @default "lb.port" */
  readonly portLabel: string;
  /** Label naming the service a container joins (`default` when absent). @default "lb.service" */
  readonly serviceLabel: string;
  /** Network to take container addresses from; empty: the first one with an address. @default "" */
  readonly network: string;
  /**
   * `containers`: running containers carrying the label; `swarm`: the running tasks of Swarm
   * services carrying it in their deploy labels. @default "containers"
   */
  readonly mode: "containers" | "swarm";
  /** swarm: how often services and tasks are listed again, besides events. @default 5000 */
  readonly pollIntervalMs: number;
  /** swarm: names whose `tasks.<name>` is resolved by DNS when the Docker API cannot list services. */
  readonly dnsFallback: readonly SwarmDnsTarget[];
}

/** `discovery.docker.dns_fallback[]`: a Swarm service found by DNS, for nodes without the API. */
export interface SwarmDnsTarget {
  /** Swarm service name or network alias: `tasks.<name>` lists its running tasks' addresses. */
  readonly name: string;
  /** Backend port on each task. @default 80 */
  readonly port: number;
  /** The service (of this config) the tasks join. @default "default" */
  readonly service: string;
}
