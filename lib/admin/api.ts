/**
 * The admin listener: `/metrics`, `/healthz`, `/readyz`, the status page at `/` and the JSON API.
 *
 * It listens on its own address (loopback by default) and is never reachable through the public
 * listener, where every path is proxied. When `admin.token` is set, every call that changes
 * something (any non-GET under `/api`) needs `Authorization: Bearer <token>`.
 *
 * Changing calls: `PUT /api/strategy`, `POST /api/reload`, `POST /api/backends/{name}/drain`
 * and `POST /api/backends/{name}/enable`.
 *
 * @module
 */

import { resolveStrategyName, STRATEGY_NAMES } from "../../algorithms/mod.ts";
import type { Balancer, ReloadResult } from "../pool/mod.ts";
import type { Config } from "../config/mod.ts";
import type { Logger } from "../base/mod.ts";
import type { Metrics, StatsWindow } from "../metrics/mod.ts";
import { type BackendSources, backendView } from "./backend_view.ts";
import { STATUS_PAGE_HTML } from "./status_page.ts";
import { statusReport } from "./status_report.ts";

/** Everything the admin API reads or changes. */
export interface AdminDeps extends BackendSources {
  readonly config: () => Config;
  readonly balancer: Balancer;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Re-read and apply the config file (`POST /api/reload`). */
  readonly reload?: () => Promise<ReloadResult>;
  /** Windowed per-backend stats for `GET /` and `GET /api/stats`; both answer 404 without it. */
  readonly stats?: StatsWindow;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value, null, 2) + "\n", { status, headers: JSON_HEADERS });
}

function text(body: string, status: number): Response {
  return new Response(body + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** Constant-time string comparison, so the token cannot be guessed byte by byte from timings. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * The config as JSON with secrets redacted, its keys in snake_case like the config file's (the
 * values are the parsed ones: durations in milliseconds, under `*_ms` keys).
 */
export function redactedConfig(config: Config): unknown {
  return snakeKeys({ ...config, admin: { ...config.admin, token: config.admin.token ? "<redacted>" : "" } });
}

/** `value` with every object key turned from camelCase into snake_case, recursively. */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(v)]),
  );
}

/** Build the admin request handler. */
export function createAdminHandler(deps: AdminDeps): (req: Request) => Promise<Response> {
  const { balancer, metrics, log } = deps;
  return async (req) => {
    const path = new URL(req.url).pathname;
    const method = req.method;
    if (path.startsWith("/api/") && method !== "GET" && method !== "HEAD") {
      const token = deps.config().admin.token;
      const auth = req.headers.get("authorization") ?? "";
      // The auth scheme is case-insensitive (RFC 9110 section 11.1); the token is not.
      const given = /^bearer +(.*)$/i.exec(auth)?.[1] ?? "";
      if (token && !sameSecret(given, token)) {
        return new Response("401 Unauthorized: admin token required\n", {
          status: 401,
          headers: {
            "www-authenticate": 'Bearer realm="lb-admin"',
            "content-type": "text/plain; charset=utf-8",
          },
        });
      }
    }
    const route = `${method} ${path}`;
    switch (route) {
      case "GET /metrics":
        return new Response(await metrics.registry.metrics(), {
          headers: { "content-type": metrics.registry.contentType },
        });
      case "GET /healthz":
        return text("ok", 200);
      case "GET /readyz": {
        const n = balancer.pool.eligible().length;
        return text(
          n > 0 ? `ready: ${n} eligible backend(s)` : "not ready: no eligible backend",
          n > 0 ? 200 : 503,
        );
      }
      case "GET /api/backends":
        return json(balancer.pool.all().map((b) => backendView(b, deps)));
      case "GET /api/config":
        return json(redactedConfig(deps.config()));
      case "GET /":
        if (!deps.stats) break;
        return new Response(STATUS_PAGE_HTML, {
          headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
        });
      case "GET /api/stats": {
        if (!deps.stats) break;
        const window = Number(new URL(req.url).searchParams.get("window") ?? deps.stats.seconds);
        if (!Number.isFinite(window) || window < 1) {
          return json({ error: "window must be >= 1 (seconds)" }, 400);
        }
        return json(
          statusReport(balancer, deps.stats, { tokenRequired: !!deps.config().admin.token, seconds: window }),
        );
      }
      case "GET /api/strategy":
        return json({ strategy: balancer.strategy, available: STRATEGY_NAMES });
      case "PUT /api/strategy":
        return await putStrategy(req, balancer, log);
      case "POST /api/reload":
        return await postReload(deps);
    }
    const action = /^\/api\/backends\/([^/]+)\/(drain|enable)$/.exec(path);
    if (action) {
      return method === "POST"
        ? setDrain(deps, decodeURIComponent(action[1]), action[2] === "drain")
        : text("405 Method Not Allowed", 405);
    }
    const known = [
      "/",
      "/api/stats",
      "/metrics",
      "/healthz",
      "/readyz",
      "/api/backends",
      "/api/config",
      "/api/strategy",
      "/api/reload",
    ];
    return known.includes(path) ? text("405 Method Not Allowed", 405) : text("404 Not Found", 404);
  };
}

async function putStrategy(req: Request, balancer: Balancer, log: Logger): Promise<Response> {
  let body: unknown;
  try {
    body = JSON.parse(await req.text());
  } catch {
    return json({ error: 'body must be JSON like {"strategy": "round_robin"}' }, 400);
  }
  const name = (body as { strategy?: unknown })?.strategy;
  const canonical = typeof name === "string" ? resolveStrategyName(name) : undefined;
  if (!canonical) {
    return json(
      { error: `unknown strategy ${JSON.stringify(name)}; valid: ${STRATEGY_NAMES.join(", ")}` },
      400,
    );
  }
  const from = balancer.strategy;
  balancer.setStrategy(canonical);
  if (from !== canonical) log("info", "strategy changed", { from, to: canonical });
  return json({ strategy: canonical, previous: from });
}

async function postReload(deps: AdminDeps): Promise<Response> {
  if (!deps.reload) return json({ error: "no config file to reload from" }, 501);
  const result = await deps.reload();
  if (!result.ok) return json({ ok: false, errors: result.errors }, 422);
  const { added, removed, updated, strategy, restartRequired } = result.report;
  return json({
    ok: true,
    added,
    removed,
    updated,
    strategy: strategy.current,
    previous_strategy: strategy.previous,
    strategy_retuned: strategy.retuned,
    restart_required: restartRequired,
    warning: restartRequired.length > 0
      ? `${restartRequired.join(" and ")} changed: restart to listen on the new address`
      : undefined,
  });
}

/**
 * Drain a backend (no new requests; in-flight ones finish) or enable it again. Enabling returns
 * it to the state its active health checks give it: healthy (ramping up with slow start) when
 * the last check passed, otherwise unhealthy until `healthy_threshold` checks pass. Enabling
 * also lifts a passive-health ejection: the operator overrides it.
 */
function setDrain(deps: AdminDeps, name: string, drain: boolean): Response {
  const pool = deps.balancer.pool;
  const b = pool.get(name);
  if (!b) return json({ error: `no backend named ${JSON.stringify(name)}` }, 404);
  const from = b.state;
  if (drain) pool.setState(b, "draining");
  else if (from === "draining" || from === "ejected") {
    pool.setState(b, deps.health.verdict(b));
  }
  if (from !== b.state) {
    deps.log("info", drain ? "backend draining" : "backend enabled", { backend: name, from, to: b.state });
  }
  return json(backendView(b, deps));
}
