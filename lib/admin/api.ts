/**
 * The admin listener: `/metrics`, `/healthz`, `/readyz`, the status page at `/` and the JSON API.
 *
 * It listens on its own address (loopback by default) and is never reachable through the public
 * listener, where every path is proxied. When `admin.token` is set, every call that changes
 * something (any non-GET under `/api`) needs `Authorization: Bearer <token>`.
 *
 * Changing calls: `PUT /api/services/{service}/strategy`, `POST /api/reload`,
 * `POST /api/services/{service}/backends/{name}/drain|enable`, and with one service the older
 * `PUT /api/strategy` and `POST /api/backends/{name}/drain|enable`.
 *
 * With several isolates (`workers` > 1) the listener runs in the first; `deps.cluster` gives it
 * every isolate's totals and one merged `/metrics`, and a changing call answers only once every
 * worker has the change (lib/admin/cluster.ts).
 *
 * @module
 */

import { STRATEGY_NAMES } from "../../algorithms/mod.ts";
import type { Logger } from "../base/mod.ts";
import type { Config } from "../config/mod.ts";
import type { Metrics, StatsWindow } from "../metrics/mod.ts";
import type { ReloadResult, ServiceSet } from "../service/mod.ts";
import { backendView, serviceView } from "./backend_view.ts";
import { type AdminCluster, countsKey, isolateStatus } from "./cluster.ts";
import { json, text, unauthorized } from "./http.ts";
import { putStrategy, serviceOf, setDrain } from "./services_api.ts";
import { STATUS_PAGE_HTML } from "./status_page.ts";
import { statusReport } from "./status_report.ts";

/** Everything the admin API reads or changes. */
export interface AdminDeps {
  readonly config: () => Config;
  readonly services: ServiceSet;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Re-read and apply the config file (`POST /api/reload`). */
  readonly reload?: () => Promise<ReloadResult>;
  /** Requests no route matched, over the stats window (for `GET /api/stats`). */
  readonly unrouted?: StatsWindow;
  /** The other isolates, when `workers` > 1. */
  readonly cluster?: AdminCluster;
}

/**
 * The config as JSON with secrets redacted, its keys in snake_case like the config file's (the
 * values are the parsed ones: durations in milliseconds, under `*_ms` keys).
 */
export function redactedConfig(config: Config): unknown {
  // Sticky secrets sign the session cookies: whoever reads one can pick any client's backend.
  const settings = <T extends { sticky: Config["defaults"]["sticky"] }>(s: T): T =>
    s.sticky ? { ...s, sticky: { ...s.sticky, secret: "<redacted>" } } : s;
  return snakeKeys({
    ...config,
    admin: { ...config.admin, token: config.admin.token ? "<redacted>" : "" },
    defaults: settings(config.defaults),
    services: config.services.map(settings),
  });
}

/** `value` with every object key turned from camelCase into snake_case, recursively. */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(v)]),
  );
}

const KNOWN = ["/", "/metrics", "/healthz", "/readyz", "/api/services", "/api/backends", "/api/config"]
  .concat(
    ["/api/stats", "/api/strategy", "/api/reload", "/api/workers"],
  );
const SERVICE_PATH = /^\/api\/services\/([^/]+)(?:\/(strategy)|\/backends\/([^/]+)\/(drain|enable))?$/;
const BACKEND_PATH = /^\/api\/backends\/([^/]+)\/(drain|enable)$/;

/** Build the admin request handler. */
export function createAdminHandler(deps: AdminDeps): (req: Request) => Promise<Response> {
  const { services, metrics, log, cluster } = deps;
  const totals = async () => await cluster?.totals();
  /** A drain or a strategy switch, answered once every worker has it. */
  const settled = async (answer: Response) => {
    if (answer.ok) await cluster?.settle();
    return answer;
  };
  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    const method = req.method;
    if (path.startsWith("/api/") && method !== "GET" && method !== "HEAD") {
      const denied = unauthorized(req, deps.config().admin.token);
      if (denied) return denied;
    }
    switch (`${method} ${path}`) {
      case "GET /metrics": {
        const { text, contentType } = cluster
          ? await cluster.metrics()
          : { text: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
        return new Response(text, { headers: { "content-type": contentType } });
      }
      case "GET /healthz":
        return text("ok", 200);
      case "GET /readyz":
        return readiness(services);
      case "GET /api/services": {
        const t = await totals();
        return json(services.all().map((s) => serviceView(s, t)));
      }
      case "GET /api/backends": {
        const t = await totals();
        return json(
          services.all().flatMap((s) =>
            s.pool.all().map((b) => backendView(s, b, t?.backends.get(countsKey(s.name, b.name))))
          ),
        );
      }
      case "GET /api/workers":
        return json(cluster ? await cluster.workers() : [isolateStatus(services, 0)]);
      case "GET /api/config":
        return json(redactedConfig(deps.config()));
      case "GET /":
        return new Response(STATUS_PAGE_HTML, {
          headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
        });
      case "GET /api/stats": {
        const window = Number(url.searchParams.get("window") ?? 60);
        if (!Number.isFinite(window) || window < 1) {
          return json({ error: "window must be >= 1 (seconds)" }, 400);
        }
        return json(
          statusReport(services, deps.unrouted, {
            tokenRequired: !!deps.config().admin.token,
            seconds: window,
          }, await totals()),
        );
      }
      case "GET /api/strategy": {
        const s = serviceOf(services, undefined);
        return s instanceof Response ? s : json({ strategy: s.balancer.strategy, available: STRATEGY_NAMES });
      }
      case "PUT /api/strategy": {
        const s = serviceOf(services, undefined);
        return s instanceof Response ? s : await settled(await putStrategy(req, s, log));
      }
      case "POST /api/reload":
        return await postReload(deps);
    }
    const byService = SERVICE_PATH.exec(path);
    const byName = byService ? undefined : BACKEND_PATH.exec(path);
    if (byService || byName) {
      const s = serviceOf(services, byService ? decodeURIComponent(byService[1]) : undefined);
      if (s instanceof Response) return s;
      const [backend, action] = byService ? [byService[3], byService[4]] : [byName![1], byName![2]];
      if (byService?.[2]) {
        if (method === "GET") return json({ strategy: s.balancer.strategy, available: STRATEGY_NAMES });
        return method === "PUT"
          ? await settled(await putStrategy(req, s, log))
          : text("405 Method Not Allowed", 405);
      }
      if (backend === undefined) {
        return method === "GET" ? json(serviceView(s, await totals())) : text("405 Method Not Allowed", 405);
      }
      if (method !== "POST") return text("405 Method Not Allowed", 405);
      const b = setDrain(s, decodeURIComponent(backend), action === "drain", log);
      if (b instanceof Response) return b;
      await cluster?.settle();
      return json(backendView(s, b, (await totals())?.backends.get(countsKey(s.name, b.name))));
    }
    return KNOWN.includes(path) ? text("405 Method Not Allowed", 405) : text("404 Not Found", 404);
  };
}

/** 200 when every service has an eligible backend (traffic can flow everywhere), else 503. */
function readiness(services: ServiceSet): Response {
  const all = services.all();
  const eligible = all.reduce((n, s) => n + s.pool.eligible().length, 0);
  const counts = all.map((s) => `${s.name} ${s.pool.eligible().length}`).join(", ");
  const empty = all.filter((s) => s.pool.eligible().length === 0).map((s) => s.name);
  if (empty.length === 0) return text(`ready: ${eligible} eligible backend(s) (${counts})`, 200);
  return text(`not ready: no eligible backend in ${empty.join(", ")}`, 503);
}

async function postReload(deps: AdminDeps): Promise<Response> {
  if (!deps.reload) return json({ error: "no config file to reload from" }, 501);
  const result = await deps.reload();
  if (!result.ok) return json({ ok: false, errors: result.errors }, 422);
  const { added, removed, updated, servicesAdded, servicesRemoved, strategies, restartRequired } =
    result.report;
  // With one service its strategy reads flat, as before there were services.
  const only = strategies.size === 1 ? [...strategies.values()][0] : undefined;
  return json({
    ok: true,
    added,
    removed,
    updated,
    services_added: servicesAdded,
    services_removed: servicesRemoved,
    strategy: only?.current,
    previous_strategy: only?.previous,
    strategy_retuned: only?.retuned,
    strategies: Object.fromEntries(
      [...strategies].map(([s, x]) => [s, { strategy: x.current, previous: x.previous, retuned: x.retuned }]),
    ),
    restart_required: restartRequired,
    warning: restartRequired.length > 0
      ? `${restartRequired.join(" and ")} changed: restart to apply ${
        restartRequired.length > 1 ? "them" : "it"
      }`
      : undefined,
  });
}
