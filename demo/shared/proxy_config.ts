/**
 * Proxy configs for the demo tools, written as `config.yml` text and read back through the
 * normal parser, so what the tools run is exactly what a user's file would give.
 *
 * A config is either one pool (`backends`, what `deno task compare` runs: the proxy's one service
 * named `default`) or several `services` with the `routes` that choose between them (what
 * `deno task demo` runs).
 *
 * @module
 */

import { type Config, parseConfig } from "../../lib/config/mod.ts";

/** One backend of a proxy config. */
export interface ProxyBackendInput {
  /** Unique within its service: `[a-z0-9_.-]{1,64}`. */
  readonly name: string;
  /** `http://host:port` origin. */
  readonly url: string;
  /** Positive integer weight. */
  readonly weight: number;
}

/** One service of a proxy config with `services`. */
export interface ProxyServiceInput {
  /** `[a-z0-9_.-]{1,64}`, not `none`. */
  readonly name: string;
  /** The service's own strategy. @default the top-level `strategy` */
  readonly strategy?: string;
  readonly backends: readonly ProxyBackendInput[];
}

/**
 * One route of a proxy config with `services`; the first that matches wins. Without `host` and
 * `pathPrefix` it is a catch-all.
 */
export interface ProxyRouteInput {
  /** Exact host (or `*.suffix`) the request's `Host` must name. */
  readonly host?: string;
  /** Segment-aware path prefix, such as `/api`. */
  readonly pathPrefix?: string;
  /** The backend sees the path without `pathPrefix`. @default false */
  readonly stripPrefix?: boolean;
  /** The service that answers. */
  readonly service: string;
}

/** A TLS listener of a proxy config: its address and the PEM files it reads at start. */
export interface ProxyTlsInput {
  /** TLS listener, `host:port`. */
  readonly listen: string;
  /** Path of the PEM certificate chain. */
  readonly certFile: string;
  /** Path of the PEM private key. */
  readonly keyFile: string;
}

/** What every proxy config of the demo tools sets. */
interface CommonInput {
  /** Public listener, `host:port`. */
  readonly listen: string;
  /** Admin listener, `host:port`. */
  readonly adminListen: string;
  /** The strategy, or with `services` the one every service without its own inherits. */
  readonly strategy: string;
  /** Health check interval, Go-style. @default "5s" */
  readonly healthInterval?: string;
  /** How long shutdown waits for in-flight requests, Go-style. @default "10s" */
  readonly shutdownTimeout?: string;
  /** A TLS listener (HTTPS with h2 and HTTP/1.1, and `wss://`). @default none */
  readonly tls?: ProxyTlsInput;
  /** The access log to standard output, in this format. @default none */
  readonly accessLog?: "json" | "common";
  /** Top-level YAML lines added as they are (a `hedging` section, say). @default none */
  readonly extra?: string;
}

/** What the demo tools vary in a proxy config: one pool of `backends`, or `services` and `routes`. */
export type ProxyConfigInput =
  & CommonInput
  & (
    | { readonly backends: readonly ProxyBackendInput[]; readonly services?: never; readonly routes?: never }
    | {
      readonly services: readonly ProxyServiceInput[];
      readonly routes: readonly ProxyRouteInput[];
      readonly backends?: never;
    }
  );

/** A YAML flow scalar for `value`: JSON strings are valid YAML, so no value can break the file. */
const q = (value: string): string => JSON.stringify(value);

function backendLines(backends: readonly ProxyBackendInput[], indent: string): string[] {
  return backends.map((b) => `${indent}- {name: ${q(b.name)}, url: ${q(b.url)}, weight: ${b.weight}}`);
}

function serviceLines(services: readonly ProxyServiceInput[]): string[] {
  return services.flatMap((s) => [
    `  ${q(s.name)}:`,
    ...(s.strategy === undefined ? [] : [`    strategy: ${q(s.strategy)}`]),
    `    backends:`,
    ...backendLines(s.backends, "      "),
  ]);
}

function routeLines(routes: readonly ProxyRouteInput[]): string[] {
  return routes.flatMap((r) => {
    const match = [
      ...(r.host === undefined ? [] : [`host: ${q(r.host)}`]),
      ...(r.pathPrefix === undefined ? [] : [`path_prefix: ${q(r.pathPrefix)}`]),
    ];
    return [
      `  - service: ${q(r.service)}`,
      ...(match.length ? [`    match: {${match.join(", ")}}`] : []),
      ...(r.stripPrefix ? [`    strip_prefix: true`] : []),
    ];
  });
}

/**
 * The config as YAML text: backend header exposed (the load generator counts shares by it) and
 * loopback trusted as a proxy, so `X-Forwarded-For` from local clients is the client address and
 * `ip_hash` spreads clients instead of hashing everyone to 127.0.0.1. With `tls`, a TLS listener
 * with the `tls` section's defaults (h2 offered, no redirect from plain HTTP).
 *
 * @param input Listeners, strategy, and either `backends` or `services` with `routes`.
 * @returns The `config.yml` text.
 *
 * @example One pool
 * ```ts
 * import { proxyConfigYaml } from "./proxy_config.ts";
 * proxyConfigYaml({
 *   listen: "127.0.0.1:8080",
 *   adminListen: "127.0.0.1:8081",
 *   strategy: "round_robin",
 *   backends: [{ name: "a", url: "http://127.0.0.1:9001", weight: 1 }],
 * }).includes("expose_backend_header: true"); // true
 * ```
 *
 * @example Two services behind a path route
 * ```ts
 * import { proxyConfigYaml } from "./proxy_config.ts";
 * proxyConfigYaml({
 *   listen: "127.0.0.1:8080",
 *   adminListen: "127.0.0.1:8081",
 *   strategy: "round_robin",
 *   services: [
 *     { name: "web", backends: [{ name: "w1", url: "http://127.0.0.1:9001", weight: 1 }] },
 *     { name: "api", strategy: "peak_ewma", backends: [{ name: "a1", url: "http://127.0.0.1:9101", weight: 1 }] },
 *   ],
 *   routes: [{ pathPrefix: "/api", stripPrefix: true, service: "api" }, { service: "web" }],
 * }).includes("strip_prefix: true"); // true
 * ```
 */
export function proxyConfigYaml(input: ProxyConfigInput): string {
  const pools = input.services === undefined
    ? [`backends:`, ...backendLines(input.backends, "  ")]
    : [`services:`, ...serviceLines(input.services), `routes:`, ...routeLines(input.routes)];
  return [
    `listen: "${input.listen}"`,
    `admin: {listen: "${input.adminListen}"}`,
    `strategy: ${input.strategy}`,
    `expose_backend_header: true`,
    `trusted_proxies: ["127.0.0.0/8", "::1/128"]`,
    `health_check: {interval: ${input.healthInterval ?? "5s"}, timeout: 1s}`,
    `shutdown_timeout: ${input.shutdownTimeout ?? "10s"}`,
    ...(input.accessLog === undefined
      ? []
      : [`access_log: {enabled: true, path: "-", format: ${input.accessLog}}`]),
    ...(input.tls === undefined ? [] : [
      `tls: {listen: ${q(input.tls.listen)}, cert: ${q(input.tls.certFile)}, key: ${q(input.tls.keyFile)}}`,
    ]),
    ...(input.extra ? [input.extra] : []),
    ...pools,
    "",
  ].join("\n");
}

/**
 * Build and validate a proxy config.
 *
 * @param input As for {@linkcode proxyConfigYaml}.
 * @returns The config, or every validation error (a bug in the caller, never user input).
 *
 * @example Usage
 * ```ts
 * import { buildProxyConfig } from "./proxy_config.ts";
 * const built = buildProxyConfig({
 *   listen: "127.0.0.1:0",
 *   adminListen: "127.0.0.1:0",
 *   strategy: "round_robin",
 *   backends: [{ name: "a", url: "http://127.0.0.1:9001", weight: 1 }],
 * });
 * if (built.ok) built.config.services[0].name; // "default"
 * ```
 */
export function buildProxyConfig(input: ProxyConfigInput): { ok: true; config: Config } | {
  ok: false;
  errors: string[];
} {
  return parseConfig(proxyConfigYaml(input), { file: "built-in config", env: () => undefined });
}
