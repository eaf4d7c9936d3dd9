/**
 * Proxy configs for the demo tools, written as `config.yml` text and read back through the
 * normal parser, so what the tools run is exactly what a user's file would give.
 *
 * @module
 */

import { type Config, parseConfig } from "../../lib/config/mod.ts";

/** What the demo tools vary in a proxy config. */
export interface ProxyConfigInput {
  /** Public listener, `host:port`. */
  readonly listen: string;
  /** Admin listener, `host:port`. */
  readonly adminListen: string;
  readonly strategy: string;
  readonly backends: readonly { readonly name: string; readonly url: string; readonly weight: number }[];
  /** Health check interval, Go-style. @default "5s" */
  readonly healthInterval?: string;
  /** How long shutdown waits for in-flight requests, Go-style. @default "10s" */
  readonly shutdownTimeout?: string;
}

/**
 * The config as YAML text: backend header exposed (the load generator counts shares by it) and
 * loopback trusted as a proxy, so `X-Forwarded-For` from local clients is the client address and
 * `ip_hash` spreads clients instead of hashing everyone to 127.0.0.1.
 *
 * @example Usage
 * ```ts
 * import { proxyConfigYaml } from "./proxy_config.ts";
 * proxyConfigYaml({
 *   listen: "127.0.0.1:8080",
 *   adminListen: "127.0.0.1:8081",
 *   strategy: "round_robin",
 *   backends: [{ name: "a", url: "http://127.0.0.1:9001", weight: 1 }],
 * }).includes("expose_backend_header: true"); // true
 * ```
 */
export function proxyConfigYaml(input: ProxyConfigInput): string {
  return [
    `listen: "${input.listen}"`,
    `admin: {listen: "${input.adminListen}"}`,
    `strategy: ${input.strategy}`,
    `expose_backend_header: true`,
    `trusted_proxies: ["127.0.0.0/8", "::1/128"]`,
    `health_check: {interval: ${input.healthInterval ?? "5s"}, timeout: 1s}`,
    `shutdown_timeout: ${input.shutdownTimeout ?? "10s"}`,
    `backends:`,
    ...input.backends.map((b) => `  - {name: ${b.name}, url: "${b.url}", weight: ${b.weight}}`),
    "",
  ].join("\n");
}

/**
 * Build and validate a proxy config.
 *
 * @returns The config, or every validation error (a bug in the caller, never user input).
 */
export function buildProxyConfig(input: ProxyConfigInput): { ok: true; config: Config } | {
  ok: false;
  errors: string[];
} {
  return parseConfig(proxyConfigYaml(input), { file: "built-in config", env: () => undefined });
}
