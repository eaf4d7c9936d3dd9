/**
 * The admin listener: `/metrics`, `/healthz`, `/readyz`, the status page at `/` and the JSON API.
 *
 * It listens on its own address (loopback by default) and is never reachable through the public
 * listener, where every path is proxied. When `admin.token` is set, every call that changes
 * something (any non-GET under `/api`) needs `Authorization: Bearer <token>`.
 *
 * @module
 */

import { resolveStrategyName, STRATEGY_NAMES } from "../algorithms/mod.ts";
import type { Balancer } from "./balancer.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { STATUS_PAGE_HTML } from "./status_page.ts";
import { statusReport } from "./status_report.ts";
import type { StatsWindow } from "./stats_window.ts";

/** Everything the admin API reads or changes. */
export interface AdminDeps {
  readonly config: () => Config;
  readonly balancer: Balancer;
  readonly metrics: Metrics;
  readonly log: Logger;
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

/** The config as JSON with secrets redacted. */
export function redactedConfig(config: Config): unknown {
  return { ...config, admin: { ...config.admin, token: config.admin.token ? "<redacted>" : "" } };
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
      if (token && !sameSecret(auth, `Bearer ${token}`)) {
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
        return json(balancer.pool.all());
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
