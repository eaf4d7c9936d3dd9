/**
 * Configuration: the schema of `config.yml`, its defaults, and validation with line numbers.
 *
 * Bad config never starts the proxy. Every problem is reported as one line naming the file, the
 * line, the field path, what was expected and what was given, and all problems are reported at
 * once. Only the backends are required: a top-level `backends` list, or `services` (each with
 * its `backends`) and `routes`; backend lists may be empty or absent when `discovery.docker` is
 * enabled. Every other key has a default documented in README.md.
 *
 * Files the config names (`backends[].tls.ca`) are read by {@linkcode parseConfig} itself,
 * synchronously, through {@linkcode ParseOptions.readFile}: a config is then valid or not in one
 * place, whoever parses it. `--check`, start and every reload (all through
 * {@linkcode loadConfig}) and tests with inline YAML see the same checks, and a reload whose CA
 * file is missing or broken keeps the running config. CA files are small (a few KiB; more than
 * 1 MiB is refused), so reading them synchronously costs nothing worth an asynchronous second
 * pass. Relative paths are the config file's directory's, so a config and its CA can move
 * together (`/etc/lb/config.yml` with `ca: ca.pem` reads `/etc/lb/ca.pem`).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { LineCounter, type Node, parseDocument } from "yaml";
import { Reader } from "./reader.ts";
import { readBackends, readDuration, readListen } from "./fields.ts";
import { readDiscovery } from "./docker.ts";
import { checkDnsFallback } from "./swarm.ts";
import { catchAll, readRoutes } from "./routes.ts";
import { DEFAULT_SERVICE, readServices, readSettings, SETTINGS_DEFAULTS, SETTINGS_KEYS } from "./services.ts";
import { readTrustedProxies } from "./strategy.ts";
import { readTls } from "./tls.ts";
import { readAccessLog, readTraceContext } from "./observability.ts";
import { readWorkers } from "./workers.ts";
import type {
  Config,
  ConfigResult,
  ListenAddress,
  RouteConfig,
  ServiceConfig,
  ServiceSettings,
} from "./types.ts";

export type * from "./types.ts";

/** Options for {@linkcode parseConfig}. */
export interface ParseOptions {
  /** Name used in messages. @default "config.yml" */
  file?: string;
  /** Environment lookup for `${VAR}` references. @default Deno.env.get */
  env?: (name: string) => string | undefined;
  /**
   * Reads a file the config names (`backends[].tls.ca`), by absolute path; relative paths in the
   * config are resolved against the directory of `file` first. Throws when it cannot read.
   * @default a regular file of at most 1 MiB, read with `Deno.readFileSync`
   */
  readFile?: (path: string) => Uint8Array;
}

const TOP_KEYS = [
  "listen",
  "admin",
  "expose_backend_header",
  "backends",
  "services",
  "routes",
  "timeouts",
  "shutdown_timeout",
  "workers",
  "trusted_proxies",
  "discovery",
  "tls",
  "access_log",
  "trace_context",
  ...SETTINGS_KEYS,
] as const;

/** Largest config file accepted; anything bigger is almost certainly not a config. */
const MAX_BYTES = 1 << 20;

/**
 * Parse and validate config text.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const r = parseConfig("backends:\n  - url: http://127.0.0.1:9001\n");
 * if (r.ok) r.config.services[0].backends[0].name; // "127.0.0.1_9001"
 * ```
 */
export function parseConfig(text: string, options: ParseOptions = {}): ConfigResult {
  const file = options.file ?? "config.yml";
  if (text.length > MAX_BYTES) return { ok: false, errors: [`${file}: file is larger than 1 MiB`] };
  if (text.includes("\0")) return { ok: false, errors: [`${file}: not a text file (contains NUL bytes)`] };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const line = e.linePos?.[0].line;
        // The parser recurses per nesting level; a hostile file can exhaust the stack.
        const what = /call stack/i.test(e.message)
          ? "nested too deeply"
          : e.message.split("\n")[0].replace(/:$/, "");
        return `${file}${line ? `:${line}` : ""}: YAML syntax error: ${what}`;
      }),
    };
  }
  if (doc.contents === null) return { ok: false, errors: [`${file}: file is empty; backends: is required`] };
  const r = new Reader(doc, lines, file, options.env ?? ((n) => Deno.env.get(n)), {
    resolve: (path) => resolve(dirname(file), path),
    read: options.readFile ?? readSmallFile,
  });
  const top = r.map(doc.contents, "", TOP_KEYS);
  if (!top) return { ok: false, errors: r.errors };
  const config = readTop(r, top);
  return r.errors.length > 0 || !config ? { ok: false, errors: byLine(r.errors) } : { ok: true, config };
}

function readTop(r: Reader, top: Map<string, Node>): Config | undefined {
  const listen = top.has("listen")
    ? readListen(r, top.get("listen"), "listen")
    : { hostname: "0.0.0.0", port: 8080 };

  let adminListen: ListenAddress | undefined = { hostname: "127.0.0.1", port: 8081 };
  let token: string | undefined = "";
  if (top.has("admin")) {
    const admin = r.map(top.get("admin"), "admin", ["listen", "token"]);
    if (admin?.has("listen")) adminListen = readListen(r, admin.get("listen"), "admin.listen");
    if (admin?.has("token")) token = r.string(admin.get("token"), "admin.token");
  }
  const expose = top.has("expose_backend_header")
    ? r.boolean(top.get("expose_backend_header"), "expose_backend_header")
    : false;
  const timeouts = readTimeouts(r, top.get("timeouts"));
  const shutdownTimeoutMs = top.has("shutdown_timeout")
    ? readDuration(r, top.get("shutdown_timeout"), "shutdown_timeout", 0)
    : 10_000;
  const workers = readWorkers(r, top.get("workers"));
  const trustedProxies = readTrustedProxies(r, top.get("trusted_proxies"));
  const tls = readTls(r, top.get("tls"));
  const accessLog = readAccessLog(r, top.get("access_log"));
  const traceContext = readTraceContext(r, top.get("trace_context"));
  // Discovery first: with it on, backend lists may be empty or absent.
  const discovery = readDiscovery(r, top.get("discovery"));
  const defaults = readSettings(r, top, SETTINGS_DEFAULTS, "");
  // Read on over bad defaults or discovery too, so one run reports every error.
  const services = readPools(r, top, defaults ?? SETTINGS_DEFAULTS, discovery?.enabled ?? false);
  const routes = services ? readRouteTable(r, top, services) : undefined;
  const fallbackOk = !discovery || !services ||
    checkDnsFallback(r, top.get("discovery"), discovery.dnsFallback, services.map((s) => s.name));

  if (
    !listen || !adminListen || token === undefined || expose === undefined || !timeouts ||
    shutdownTimeoutMs === undefined || !trustedProxies || !discovery || !defaults || !services || !routes ||
    tls === undefined || workers === undefined || !fallbackOk || !accessLog || !traceContext
  ) return undefined;
  const taken = [["listen", listen], ["admin.listen", adminListen]] as const;
  for (const [key, addr] of tls ? taken : []) {
    if (tls && addr.port !== 0 && addr.port === tls.listen.port && addr.hostname === tls.listen.hostname) {
      r.fail(
        r.nodeOf(top.get("tls")),
        "tls.listen",
        `must differ from ${key} (${addr.hostname}:${addr.port})`,
      );
      return undefined;
    }
  }
  if (listen.port !== 0 && listen.port === adminListen.port && listen.hostname === adminListen.hostname) {
    r.fail(
      r.nodeOf(top.get("admin")),
      "admin.listen",
      "must differ from listen: the admin API is never public",
    );
    return undefined;
  }
  return {
    listen,
    admin: { listen: adminListen, token },
    exposeBackendHeader: expose,
    timeouts,
    shutdownTimeoutMs,
    workers,
    trustedProxies,
    tls,
    accessLog,
    traceContext,
    discovery: { docker: discovery },
    defaults,
    services,
    routes,
  };
}

/** `services`, or the one `default` service a top-level `backends` list forms. */
function readPools(
  r: Reader,
  top: Map<string, Node>,
  defaults: ServiceSettings,
  discovering: boolean,
): ServiceConfig[] | undefined {
  if (top.has("services")) {
    if (top.has("backends")) {
      r.fail(
        r.nodeOf(top.get("backends")),
        "backends",
        "not allowed with services: list each service's backends under services.<name>.backends",
      );
      return undefined;
    }
    return readServices(r, top.get("services"), defaults, discovering);
  }
  if (!top.has("backends") && !discovering) {
    r.fail(undefined, "backends", "is required: list at least one backend (or enable discovery.docker)");
    return undefined;
  }
  const backends = top.has("backends") ? readBackends(r, top.get("backends"), discovering) : [];
  return backends ? [{ name: DEFAULT_SERVICE, ...defaults, backends }] : undefined;
}

/** `routes`, or one catch-all when there is a single service to send everything to. */
function readRouteTable(
  r: Reader,
  top: Map<string, Node>,
  services: ServiceConfig[],
): RouteConfig[] | undefined {
  const names = services.map((s) => s.name);
  if (top.has("routes")) return readRoutes(r, top.get("routes"), names);
  if (services.length === 1) return [catchAll(names[0])];
  r.fail(
    r.nodeOf(top.get("services")),
    "routes",
    `is required with several services (${names.join(", ")}): say which requests go where`,
  );
  return undefined;
}

/** `timeouts`: key, field, default. Every one is a duration of at least 1 ms. */
const TIMEOUTS = [
  ["request", "requestMs", 30_000],
  ["connect", "connectMs", 5_000],
  ["client_header", "clientHeaderMs", 10_000],
  ["client_idle", "clientIdleMs", 60_000],
  ["tunnel_idle", "tunnelIdleMs", 3_600_000],
  ["tls_handshake", "tlsHandshakeMs", 10_000],
] as const;

function readTimeouts(r: Reader, node: Node | undefined): Config["timeouts"] | undefined {
  const out: Record<string, number | undefined> = {};
  const t = node === undefined
    ? new Map<string, Node>()
    : r.map(node, "timeouts", TIMEOUTS.map(([key]) => key));
  if (!t) return undefined;
  for (const [key, field, fallback] of TIMEOUTS) {
    out[field] = t.has(key) ? readDuration(r, t.get(key), `timeouts.${key}`, 1) : fallback;
  }
  if (Object.values(out).some((v) => v === undefined)) return undefined;
  return out as unknown as Config["timeouts"];
}

/** Sort messages by their line number so they read top to bottom; unlocated ones go last. */
function byLine(errors: string[]): string[] {
  const line = (e: string) => Number(/^[^:]*:(\d+):/.exec(e)?.[1] ?? Infinity);
  return [...errors].sort((a, b) => line(a) - line(b));
}

/** A file the config names: a regular file of at most 1 MiB. */
function readSmallFile(path: string): Uint8Array {
  const info = Deno.statSync(path);
  if (!info.isFile) throw new Error(info.isDirectory ? "is a directory" : "not a regular file");
  if (info.size > MAX_BYTES) throw new Error("file is larger than 1 MiB");
  return Deno.readFileSync(path);
}

/**
 * Read and validate a config file; relative paths in it are resolved against its directory.
 *
 * @returns the result; a missing or unreadable file is an error value, not an exception.
 */
export async function loadConfig(
  path: string,
  env?: (name: string) => string | undefined,
): Promise<ConfigResult> {
  let text: string;
  try {
    const bytes = await Deno.readFile(path);
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "file not found"
      : e instanceof TypeError
      ? "not UTF-8 text"
      : (e as Error).message;
    return { ok: false, errors: [`${path}: cannot read config: ${why}`] };
  }
  return parseConfig(text, { file: path, env });
}
