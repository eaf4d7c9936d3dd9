/**
 * Options of `deno task demo`, and the demo's built-in services, backends and routes.
 *
 * @module
 */

import { resolveStrategyName, STRATEGY_NAMES } from "../algorithms/mod.ts";
import { type FlagSpec, numberFlag, type Parsed, type ProxyRouteInput, readFlags } from "./shared/mod.ts";
import type { BackendSpec } from "./backend/mod.ts";

/** What the demo starts. */
export interface DemoOptions {
  /** Public proxy port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** Admin port on 127.0.0.1 (status page, metrics, API); 0 picks a free one. */
  readonly adminPort: number;
  /** HTTPS port on 127.0.0.1 (HTTP/2 and HTTP/1.1, `wss://`); 0 picks a free one; null serves no HTTPS. */
  readonly tlsPort: number | null;
  /** Canonical strategy name every service starts with. */
  readonly strategy: string;
  /** Drive steady background load through the proxy, to every service, until stopped. */
  readonly load: boolean;
  /** Background load in requests per second to each service. */
  readonly rate: number;
  /** Write the proxy's access log (common format) to standard output. */
  readonly accessLog: boolean;
}

/**
 * Defaults: the proxy on 8080, admin on 8081, HTTPS on 8443, round robin, no load, 100 req/s per
 * service when `--load`.
 */
export const DEMO_DEFAULTS: DemoOptions & { readonly tlsPort: number } = {
  port: 8080,
  adminPort: 8081,
  tlsPort: 8443,
  strategy: "round_robin",
  load: false,
  rate: 100,
  accessLog: false,
};

/**
 * The `web` service's four backends, which differ the way real ones do: two fast ones with room
 * to spare, one slow with little capacity (120 ms, 4 at once: 33 req/s), and one that fails 5% of
 * its requests. Under round robin the slow one's queue shows in p99; latency-aware strategies
 * move traffic off it.
 */
export const WEB_BACKENDS: readonly BackendSpec[] = [
  {
    name: "fast-1",
    latencyMs: 10,
    jitterMs: 3,
    distribution: "lognormal",
    capacity: 16,
    errorRate: 0,
    weight: 1,
  },
  {
    name: "fast-2",
    latencyMs: 10,
    jitterMs: 3,
    distribution: "lognormal",
    capacity: 16,
    errorRate: 0,
    weight: 1,
  },
  {
    name: "slow",
    latencyMs: 120,
    jitterMs: 30,
    distribution: "lognormal",
    capacity: 4,
    errorRate: 0,
    weight: 1,
  },
  {
    name: "flaky",
    latencyMs: 15,
    jitterMs: 5,
    distribution: "lognormal",
    capacity: 16,
    errorRate: 0.05,
    weight: 1,
  },
];

/**
 * The `api` service's two backends: both serve 8 requests at once and answer half their requests
 * in about 20 ms, but `spiky` has a long latency tail (mean 40 ms, standard deviation 60 ms: one
 * request in a hundred takes over a quarter of a second) where `steady` stays near 20 ms. Round robin splits them evenly whatever
 * the tail; `peak_ewma` and `least_connections` lean on `steady`.
 */
export const API_BACKENDS: readonly BackendSpec[] = [
  {
    name: "steady",
    latencyMs: 20,
    jitterMs: 5,
    distribution: "lognormal",
    capacity: 8,
    errorRate: 0,
    weight: 1,
  },
  {
    name: "spiky",
    latencyMs: 40,
    jitterMs: 60,
    distribution: "lognormal",
    capacity: 8,
    errorRate: 0,
    weight: 1,
  },
];

/** One service of the demo: a name and its backends. */
export interface DemoService {
  /** Service name in the config, the metrics label and the admin API paths. */
  readonly name: string;
  readonly backends: readonly BackendSpec[];
}

/** The demo's services, in the order the banner lists them. */
export const DEMO_SERVICES: readonly DemoService[] = [
  { name: "web", backends: WEB_BACKENDS },
  { name: "api", backends: API_BACKENDS },
];

/**
 * How requests reach the services, first match wins: a path under `/api` (which the backend
 * sees without the prefix: `/api/echo` arrives as `/echo`), or `Host: api.localhost`, goes to
 * `api`; everything else goes to `web`.
 */
export const DEMO_ROUTES: readonly ProxyRouteInput[] = [
  { pathPrefix: "/api", stripPrefix: true, service: "api" },
  { host: "api.localhost", service: "api" },
  { service: "web" },
];

/** The path of the demo backends' WebSocket echo. */
export const DEMO_WS_PATH = "/ws";

/**
 * The WebSocket echo: {@linkcode DEMO_WS_PATH} (and below) goes to `web`, whose backends answer
 * it with `Deno.upgradeWebSocket` and echo every message. It comes before
 * {@linkcode DEMO_ROUTES}, which are the routes for plain requests (the banner's `curl` lines
 * and the background load).
 */
export const DEMO_WS_ROUTE: ProxyRouteInput = { pathPrefix: DEMO_WS_PATH, service: "web" };

/** A request that a route sends to its service: the URL, and the `Host` header when the route needs one. */
export interface RouteRequest {
  readonly url: string;
  readonly host?: string;
}

/**
 * A request `route` matches, on the proxy at `proxyUrl`.
 *
 * @param route A route without methods or headers (the demo's have none).
 * @param proxyUrl The proxy's base URL, ending in `/`.
 * @returns The URL to ask (the route's path prefix with a trailing `/`), and the host to send.
 *
 * @example Usage
 * ```ts
 * import { routeRequest } from "./demo_config.ts";
 * routeRequest({ pathPrefix: "/api", service: "api" }, "http://127.0.0.1:8080/");
 * // { url: "http://127.0.0.1:8080/api/" }
 * ```
 */
export function routeRequest(route: ProxyRouteInput, proxyUrl: string): RouteRequest {
  const path = route.pathPrefix === undefined ? "" : `${route.pathPrefix.replace(/^\/+|\/+$/g, "")}/`;
  const url = new URL(path, proxyUrl).href;
  return route.host === undefined ? { url } : { url, host: route.host };
}

/** Accepted flags; each also reads `LB_DEMO_<NAME>` (`LB_DEMO_PORT`, `LB_DEMO_ADMIN_PORT`, ...). */
export const DEMO_FLAGS: FlagSpec = {
  port: { type: "string" },
  "admin-port": { type: "string" },
  "tls-port": { type: "string" },
  "no-tls": { type: "boolean" },
  strategy: { type: "string" },
  load: { type: "boolean" },
  rate: { type: "string" },
  "access-log": { type: "boolean" },
  help: { type: "boolean" },
};

/** Usage text for `--help`. */
export const DEMO_USAGE = `Usage: deno task demo [flags]

Starts two services of demo backends on loopback and the proxy in front of them. Ctrl-C stops
everything.
  web   four backends: two fast, one slow with low capacity, one failing 5% of requests
  api   two backends: one steady, one with a long latency tail
Requests under /api/ (the prefix stripped) or with Host: api.localhost go to api; the rest to web.
/ws is a WebSocket echo (web's backends answer it), over ws:// and wss://.

  --port N            proxy port on 127.0.0.1 (LB_DEMO_PORT, default 8080; 0 = any free port)
  --admin-port N      status page, metrics and API port (LB_DEMO_ADMIN_PORT, default 8081)
  --tls-port N        HTTPS port (HTTP/2 and HTTP/1.1) with a self-signed certificate for
                      localhost made at start (LB_DEMO_TLS_PORT, default 8443)
  --no-tls            serve no HTTPS, write no certificate (LB_DEMO_NO_TLS=1)
  --strategy NAME     the strategy both services start with; switch each one live with
                      PUT /api/services/{service}/strategy (LB_DEMO_STRATEGY, default round_robin):
                      ${STRATEGY_NAMES.join(", ")}
  --load              also send steady open-loop load to both services (LB_DEMO_LOAD=1)
  --rate R            that load in requests per second to each service (LB_DEMO_RATE, default 100)
  --access-log        print the proxy's access log (one line per request, common format) to
                      standard output (LB_DEMO_ACCESS_LOG=1)
`;

/**
 * Parse demo flags, falling back to `LB_DEMO_*` variables and then to the defaults.
 *
 * @param args Command-line arguments.
 * @param env Variable lookup.
 * @returns The options, `"help"`, or every problem found.
 *
 * @example Usage
 * ```ts
 * import { parseDemoArgs } from "./demo_config.ts";
 * const parsed = parseDemoArgs(["--port", "0"], (n) => (n === "LB_DEMO_STRATEGY" ? "RoundRobin" : undefined));
 * if (parsed.ok && parsed.value !== "help") parsed.value.strategy; // "round_robin"
 * ```
 */
export function parseDemoArgs(
  args: string[],
  env: (name: string) => string | undefined,
): Parsed<DemoOptions | "help"> {
  const flags = readFlags(args, DEMO_FLAGS, env, "LB_DEMO");
  if (!flags.ok) return flags;
  const raw = flags.value;
  if (raw.help) return { ok: true, value: "help" };
  const errors: string[] = [];
  const d = DEMO_DEFAULTS;
  const port = { min: 0, max: 65535, integer: true };
  const name = typeof raw.strategy === "string" ? raw.strategy : d.strategy;
  const strategy = resolveStrategyName(name);
  if (!strategy) errors.push(`Cannot use --strategy: unknown "${name}"; known: ${STRATEGY_NAMES.join(", ")}`);
  const noTls = raw["no-tls"] === true;
  // --no-tls wins over LB_DEMO_TLS_PORT from the environment, but not over --tls-port beside it.
  if (noTls && args.some((a) => a === "--tls-port" || a.startsWith("--tls-port="))) {
    errors.push(`Cannot use --tls-port with --no-tls: one serves HTTPS, the other none`);
  }
  const options: DemoOptions = {
    port: numberFlag("port", raw.port, d.port, errors, port),
    adminPort: numberFlag("admin-port", raw["admin-port"], d.adminPort, errors, port),
    tlsPort: noTls ? null : numberFlag("tls-port", raw["tls-port"], d.tlsPort, errors, port),
    strategy: strategy ?? d.strategy,
    load: raw.load === true,
    rate: numberFlag("rate", raw.rate, d.rate, errors, { min: 1, max: 2_000 }),
    accessLog: raw["access-log"] === true,
  };
  if (options.port !== 0 && options.port === options.adminPort) {
    errors.push(`Cannot use --admin-port: it must differ from --port, both are ${options.port}`);
  }
  const tls = options.tlsPort;
  if (tls !== null && tls !== 0 && (tls === options.port || tls === options.adminPort)) {
    const other = tls === options.port ? "--port" : "--admin-port";
    errors.push(`Cannot use --tls-port: it must differ from ${other}, both are ${tls}`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: options };
}
