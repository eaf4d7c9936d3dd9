/**
 * The admin calls that act on one service: switch its strategy, drain or enable one of its
 * backends. Each is reachable under `/api/services/{service}/...`, and under the older
 * single-pool paths (`/api/strategy`, `/api/backends/{name}/...`), which keep working while there
 * is one service and answer 409 with the list of services when there are several: guessing which
 * one was meant would switch the wrong pool.
 *
 * @module
 */

import { resolveStrategyName, STRATEGY_NAMES } from "../../algorithms/mod.ts";
import type { Logger } from "../base/mod.ts";
import type { Service, ServiceSet } from "../service/mod.ts";
import type { Backend } from "../pool/mod.ts";
import { json, jsonBody } from "./http.ts";

/** The service a call names, or the answer when it cannot be found. */
export function serviceOf(services: ServiceSet, name: string | undefined): Service | Response {
  const all = services.all();
  if (name === undefined) {
    if (all.length === 1) return all[0];
    return json({
      error: `there are ${all.length} services; use /api/services/{service}/...`,
      services: all.map((s) => s.name),
    }, 409);
  }
  return services.get(name) ??
    json({ error: `no service named ${JSON.stringify(name)}`, services: all.map((s) => s.name) }, 404);
}

/** `PUT .../strategy` with `{"strategy": "round_robin"}`: switch live. */
export async function putStrategy(req: Request, s: Service, log: Logger): Promise<Response> {
  const body = await jsonBody(req);
  if (body === undefined) return json({ error: 'body must be JSON like {"strategy": "round_robin"}' }, 400);
  const name = (body as { strategy?: unknown })?.strategy;
  const canonical = typeof name === "string" ? resolveStrategyName(name) : undefined;
  if (!canonical) {
    return json(
      { error: `unknown strategy ${JSON.stringify(name)}; valid: ${STRATEGY_NAMES.join(", ")}` },
      400,
    );
  }
  const from = s.balancer.strategy;
  s.balancer.setStrategy(canonical);
  if (from !== canonical) log("info", "strategy changed", { service: s.name, from, to: canonical });
  return json({ service: s.name, strategy: canonical, previous: from });
}

/**
 * Drain a backend (no new requests; in-flight ones finish) or enable it again. Enabling returns
 * it to the state its active health checks give it: healthy (ramping up with slow start) when
 * the last check passed, otherwise unhealthy until `healthy_threshold` checks pass. Enabling
 * also lifts a passive-health ejection: the operator overrides it.
 *
 * @returns the backend (the caller shows it), or the answer when there is no such backend
 */
export function setDrain(s: Service, name: string, drain: boolean, log: Logger): Backend | Response {
  const b = s.pool.get(name);
  if (!b) return json({ error: `no backend named ${JSON.stringify(name)} in service ${s.name}` }, 404);
  const from = b.state;
  if (drain) s.pool.setState(b, "draining");
  else if (from === "draining" || from === "ejected") s.pool.setState(b, s.health.verdict(b));
  if (from !== b.state) {
    log("info", drain ? "backend draining" : "backend enabled", {
      service: s.name,
      backend: name,
      from,
      to: b.state,
    });
  }
  return b;
}
