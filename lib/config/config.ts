/**
 * Configuration: the schema of `config.yml`, its defaults, and validation with line numbers.
 *
 * Bad config never starts the proxy. Every problem is reported as one line naming the file, the
 * line, the field path, what was expected and what was given, and all problems are reported at
 * once. Only `backends` is required (and may be empty or absent when `discovery.docker` is
 * enabled); every other key has a default documented in README.md.
 *
 * @module
 */

import { LineCounter, parseDocument } from "yaml";
import { resolveStrategyName, STRATEGY_NAMES } from "../../algorithms/mod.ts";
import { Reader } from "./reader.ts";
import { readBackends, readDuration, readListen } from "./fields.ts";
import { readDiscovery } from "./docker.ts";
import { readPassive, readQueue, readRetries, readSlowStart } from "./resilience.ts";
import type { Config, ConfigResult, HealthCheckConfig, ListenAddress } from "./types.ts";

import { readHash, readTuning } from "./strategy.ts";

export type * from "./types.ts";

/** Options for {@linkcode parseConfig}. */
export interface ParseOptions {
  /** Name used in messages. @default "config.yml" */
  file?: string;
  /** Environment lookup for `${VAR}` references. @default Deno.env.get */
  env?: (name: string) => string | undefined;
}

const TOP_KEYS = [
  "listen",
  "admin",
  "strategy",
  "expose_backend_header",
  "backends",
  "health_check",
  "timeouts",
  "shutdown_timeout",
  "retries",
  "passive",
  "slow_start",
  "queue",
  "hash",
  "trusted_proxies",
  "peak_ewma",
  "least_resources",
  "discovery",
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
 * if (r.ok) r.config.backends[0].name; // "127.0.0.1_9001"
 * ```
 */
export function parseConfig(text: string, options: ParseOptions = {}): ConfigResult {
  const file = options.file ?? "config.yml";
  if (text.length > MAX_BYTES) return { ok: false, errors: [`${file}: file is larger than 1 MiB`] };
  if (text.includes("\0")) return { ok: false, errors: [`${file}: not a text file (contains NUL bytes)`] };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
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
  const r = new Reader(doc, lines, file, options.env ?? ((n) => Deno.env.get(n)));
  const top = r.map(doc.contents, "", TOP_KEYS);
  if (!top) return { ok: false, errors: r.errors };
  const config = readTop(r, top);
  return r.errors.length > 0 || !config ? { ok: false, errors: byLine(r.errors) } : { ok: true, config };
}

function readTop(r: Reader, top: Map<string, import("yaml").Node>): Config | undefined {
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

  let strategy: string | undefined = "round_robin";
  if (top.has("strategy")) {
    const name = r.string(top.get("strategy"), "strategy");
    strategy = name === undefined ? undefined : resolveStrategyName(name);
    if (name !== undefined && strategy === undefined) {
      r.fail(
        r.nodeOf(top.get("strategy")),
        "strategy",
        `unknown strategy "${name}"; valid: ${STRATEGY_NAMES.join(", ")}`,
      );
    }
  }

  const expose = top.has("expose_backend_header")
    ? r.boolean(top.get("expose_backend_header"), "expose_backend_header")
    : false;

  // Discovery first: with it on, the static list may be empty or absent.
  const discovery = readDiscovery(r, top.get("discovery"));
  const discovering = discovery?.enabled === true;
  const backends = top.has("backends")
    ? readBackends(r, top.get("backends"), discovering)
    : discovering
    ? []
    : undefined;
  if (!top.has("backends") && !discovering) {
    r.fail(undefined, "backends", "is required: list at least one backend (or enable discovery.docker)");
  }

  const healthCheck = readHealthCheck(r, top.get("health_check"));

  let requestMs: number | undefined = 30_000;
  let connectMs: number | undefined = 5_000;
  let clientHeaderMs: number | undefined = 10_000;
  let clientIdleMs: number | undefined = 60_000;
  if (top.has("timeouts")) {
    const t = r.map(top.get("timeouts"), "timeouts", ["request", "connect", "client_header", "client_idle"]);
    if (t?.has("request")) requestMs = readDuration(r, t.get("request"), "timeouts.request", 1);
    if (t?.has("connect")) connectMs = readDuration(r, t.get("connect"), "timeouts.connect", 1);
    if (t?.has("client_header")) {
      clientHeaderMs = readDuration(r, t.get("client_header"), "timeouts.client_header", 1);
    }
    if (t?.has("client_idle")) {
      clientIdleMs = readDuration(r, t.get("client_idle"), "timeouts.client_idle", 1);
    }
  }
  const shutdownTimeoutMs = top.has("shutdown_timeout")
    ? readDuration(r, top.get("shutdown_timeout"), "shutdown_timeout", 0)
    : 10_000;

  const retries = readRetries(r, top.get("retries"));
  const passive = readPassive(r, top.get("passive"));
  const slowStartMs = readSlowStart(r, top.get("slow_start"));
  const queue = readQueue(r, top.get("queue"));
  const hash = readHash(r, top.get("hash"), top.get("trusted_proxies"));
  const tuning = readTuning(r, top.get("peak_ewma"), top.get("least_resources"));

  if (
    !listen || !adminListen || token === undefined || !strategy || expose === undefined || !backends ||
    !healthCheck || requestMs === undefined || connectMs === undefined || clientHeaderMs === undefined ||
    clientIdleMs === undefined || shutdownTimeoutMs === undefined ||
    !retries || !passive || slowStartMs === undefined || !queue || !hash || !tuning || !discovery
  ) return undefined;
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
    strategy,
    exposeBackendHeader: expose,
    backends,
    healthCheck,
    timeouts: { requestMs, connectMs, clientHeaderMs, clientIdleMs },
    shutdownTimeoutMs,
    retries,
    passive,
    slowStartMs,
    queue,
    hash: { key: hash.key },
    trustedProxies: hash.trustedProxies,
    tuning,
    discovery: { docker: discovery },
  };
}

const HEALTH_KEYS = [
  "path",
  "interval",
  "timeout",
  "healthy_threshold",
  "unhealthy_threshold",
  "expected_status",
] as const;

function readHealthCheck(r: Reader, node: import("yaml").Node | undefined): HealthCheckConfig | undefined {
  const out = {
    path: "/health" as string | undefined,
    intervalMs: 5_000 as number | undefined,
    timeoutMs: 2_000 as number | undefined,
    healthyThreshold: 2 as number | undefined,
    unhealthyThreshold: 3 as number | undefined,
    expectedStatus: [[200, 399]] as (readonly [number, number])[] | undefined,
  };
  if (node !== undefined) {
    const m = r.map(node, "health_check", HEALTH_KEYS);
    if (!m) return undefined;
    if (m.has("path")) {
      out.path = r.string(m.get("path"), "health_check.path");
      if (out.path !== undefined && !/^\/[\x21-\x7e]*$/.test(out.path)) {
        r.fail(
          r.nodeOf(m.get("path")),
          "health_check.path",
          `must start with / and contain no spaces, got "${out.path}"`,
        );
        out.path = undefined;
      }
    }
    if (m.has("interval")) out.intervalMs = readDuration(r, m.get("interval"), "health_check.interval", 10);
    if (m.has("timeout")) out.timeoutMs = readDuration(r, m.get("timeout"), "health_check.timeout", 1);
    if (m.has("healthy_threshold")) {
      out.healthyThreshold = r.integer(m.get("healthy_threshold"), "health_check.healthy_threshold", 1, 100);
    }
    if (m.has("unhealthy_threshold")) {
      out.unhealthyThreshold = r.integer(
        m.get("unhealthy_threshold"),
        "health_check.unhealthy_threshold",
        1,
        100,
      );
    }
    if (m.has("expected_status")) out.expectedStatus = readStatusRanges(r, m.get("expected_status"));
  }
  const { path, intervalMs, timeoutMs, healthyThreshold, unhealthyThreshold, expectedStatus } = out;
  if (
    path === undefined || intervalMs === undefined || timeoutMs === undefined ||
    healthyThreshold === undefined ||
    unhealthyThreshold === undefined || expectedStatus === undefined
  ) return undefined;
  return { path, intervalMs, timeoutMs, healthyThreshold, unhealthyThreshold, expectedStatus };
}

/** "200-399", "200", or "200,204,300-399". */
function readStatusRanges(r: Reader, node: import("yaml").Node | undefined): [number, number][] | undefined {
  const s = r.scalar(node, "health_check.expected_status");
  if (!s) return undefined;
  const text = String(s.value);
  const ranges: [number, number][] = [];
  for (const part of text.split(",")) {
    const m = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo < 100 || hi > 599 || lo > hi) {
      r.fail(
        s.node,
        "health_check.expected_status",
        `must be status codes or ranges like "200-399", got "${text}"`,
      );
      return undefined;
    }
    ranges.push([lo, hi]);
  }
  return ranges;
}

/** Sort messages by their line number so they read top to bottom; unlocated ones go last. */
function byLine(errors: string[]): string[] {
  const line = (e: string) => Number(/^[^:]*:(\d+):/.exec(e)?.[1] ?? Infinity);
  return [...errors].sort((a, b) => line(a) - line(b));
}

/**
 * Read and validate a config file.
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
