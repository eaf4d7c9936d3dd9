/**
 * The validated configuration's types: what every layer above reads from `config.yml`.
 *
 * Kept apart from the parser so the field readers and the sections can name these types without
 * importing the parser that imports them.
 *
 * @module
 */

import type { StrategyTuning } from "../../algorithms/mod.ts";

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

/** The validated, defaulted configuration. */
export interface Config {
  readonly listen: ListenAddress;
  readonly admin: { readonly listen: ListenAddress; readonly token: string };
  /** Canonical strategy name (aliases resolved). */
  readonly strategy: string;
  readonly exposeBackendHeader: boolean;
  readonly backends: readonly BackendConfig[];
  readonly healthCheck: HealthCheckConfig;
  readonly timeouts: {
    readonly requestMs: number;
    readonly connectMs: number;
    /** A client's request head must arrive in full within this (slowloris); 408 after. */
    readonly clientHeaderMs: number;
    /** A keep-alive client connection with no request in progress is closed after this. */
    readonly clientIdleMs: number;
  };
  readonly shutdownTimeoutMs: number;
  readonly retries: RetryConfig;
  readonly passive: PassiveConfig;
  /** Ramp-up window for backends that become healthy; 0 is off. */
  readonly slowStartMs: number;
  readonly queue: QueueConfig;
  /** Affinity key for `ip_hash`: `client_ip`, `header:<Name>` or `cookie:<name>`. */
  readonly hash: { readonly key: string };
  /** CIDRs whose `X-Forwarded-*` headers are believed. */
  readonly trustedProxies: readonly string[];
  /** Strategy tuning (`peak_ewma`, `least_resources` sections). */
  readonly tuning: StrategyTuning;
  /** Backend discovery (`discovery.docker`); off by default. */
  readonly discovery: { readonly docker: DockerDiscoveryConfig };
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
  /** Network to take container addresses from; empty: the first one with an address. @default "" */
  readonly network: string;
}
