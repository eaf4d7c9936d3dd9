/**
 * Admin endpoints of the demo backend, for demos and tests that need a server to misbehave.
 *
 * - `GET /admin/health`, `POST /admin/health` `{"healthy": false}`: flip what `/health` answers.
 * - `POST /admin/pause` `{"duration": "500ms"}`: hold every response not yet sent until the pause
 *   ends, like a stop-the-world GC pause or a stuck dependency.
 * - `GET /admin/profile`, `POST /admin/profile` `{"latency": "200ms", "error_rate": 0.1, ...}`:
 *   read or change latency, jitter, distribution, cpu, error_rate, tail_ratio and tail_latency of a
 *   running backend.
 *
 * They have no authentication: the demo backend is a test fixture and must not face the internet.
 *
 * @module
 */

import { parseDuration } from "../../lib/config/mod.ts";
import { json } from "../shared/mod.ts";
import type { HandlerContext } from "./context.ts";
import { activate, profileToJson, updateProfile } from "./profile.ts";

/** Handle a request under `/admin/`. */
export async function handleAdmin(request: Request, url: URL, ctx: HandlerContext): Promise<Response> {
  const { state } = ctx;
  const route = `${request.method} ${url.pathname}`;
  if (route === "GET /admin/health") return json({ healthy: state.healthy });
  if (route === "GET /admin/profile") return json(profileToJson(state.active.profile));
  const body = await readJson(request);
  if (body === undefined) return json({ error: "expected a JSON body" }, 400);
  switch (route) {
    case "POST /admin/health": {
      const healthy = (body as { healthy?: unknown })?.healthy;
      if (typeof healthy !== "boolean") return json({ error: `expected {"healthy": true|false}` }, 400);
      state.healthy = healthy;
      return json({ healthy });
    }
    case "POST /admin/pause": {
      const text = (body as { duration?: unknown })?.duration;
      const ms = typeof text === "string" ? parseDuration(text) : undefined;
      if (ms === undefined) return json({ error: `expected {"duration": "500ms"}` }, 400);
      state.pausedUntil = Math.max(state.pausedUntil, ctx.now() + ms);
      return json({ paused_ms: ms });
    }
    case "POST /admin/profile": {
      const next = updateProfile(state.active.profile, body);
      if (typeof next === "string") return json({ error: next }, 400);
      state.active = activate(next, ctx.random);
      return json(profileToJson(next));
    }
  }
  return json({ error: `no admin route ${route}` }, 404);
}

/** The parsed JSON body, or undefined when it is missing or not JSON. */
async function readJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    return undefined;
  }
}
