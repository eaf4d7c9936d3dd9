/**
 * Request handling of the demo backend: the served endpoints and the admin switches.
 *
 * Served endpoints (`/`, `/echo`, `/bytes`) go through the profile: wait for a capacity slot,
 * burn CPU, sleep the drawn latency, wait out any pause, then maybe fail with 500. `/health` and
 * `/admin/*` skip all of that so a health checker sees the switch, not the load, and so does the
 * WebSocket echo at `/ws` (a socket is long-lived: it would hold a capacity slot for its life).
 *
 * @module
 */

import { burnCpu, json, sleep } from "../shared/mod.ts";
import { handleAdmin } from "./admin.ts";
import type { HandlerContext } from "./context.ts";
import { echo, streamBytes, websocketEcho } from "./routes.ts";

/** Build the `Deno.serve` handler for a backend. */
export function createBackendHandler(ctx: HandlerContext): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/health") {
      const status = ctx.state.healthy ? 200 : 503;
      return json({ backend: ctx.name, healthy: ctx.state.healthy }, status);
    }
    if (url.pathname.startsWith("/admin/")) return handleAdmin(request, url, ctx);
    if (url.pathname === "/ws") return websocketEcho(request);
    if (url.pathname !== "/" && url.pathname !== "/echo" && url.pathname !== "/bytes") {
      return json({ error: `no route for ${url.pathname}` }, 404);
    }
    const arrived = ctx.now();
    try {
      await ctx.slots.acquire(ctx.closing);
    } catch {
      return json({ error: "backend is shutting down" }, 503);
    }
    try {
      const { profile, nextLatency } = ctx.state.active;
      if (profile.cpuMs > 0) burnCpu(profile.cpuMs, ctx.cpuTime);
      await sleep(nextLatency(), ctx.closing);
      while (ctx.now() < ctx.state.pausedUntil) await sleep(ctx.state.pausedUntil - ctx.now(), ctx.closing);
      if (profile.errorRate > 0 && ctx.random() < profile.errorRate) {
        return json({ backend: ctx.name, error: "injected failure" }, 500);
      }
    } catch {
      return json({ error: "backend is shutting down" }, 503);
    } finally {
      ctx.slots.release();
    }
    const latencyMs = Math.round((ctx.now() - arrived) * 1000) / 1000;
    if (url.pathname === "/echo") return echo(request, url, ctx.name);
    if (url.pathname === "/bytes") return streamBytes(url, ctx.closing);
    return json({
      backend: ctx.name,
      port: ctx.port,
      hostname: ctx.hostname,
      timestamp: new Date().toISOString(),
      latency_ms: latencyMs,
    });
  };
}
