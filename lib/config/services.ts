/**
 * `services`: named pools of backends, each with its own strategy, health checks and resilience,
 * and the top-level settings every service inherits for the keys it leaves out.
 *
 * A config written before services existed (a top-level `backends` list) keeps working: it is
 * one service named `default`. With `services`, a top-level `backends` list is an error, since
 * it is unclear which service it would belong to.
 *
 * @module
 */

import { isMap, type Node } from "yaml";
import { readBackends } from "./fields.ts";
import { HEALTH_CHECK_DEFAULTS, readHealthCheck } from "./health_check.ts";
import type { Reader } from "./reader.ts";
import { readPassive, readQueue, readRetries, readSlowStart, RESILIENCE_DEFAULTS } from "./resilience.ts";
import { readHashKey, readStrategy, readTuning } from "./strategy.ts";
import { readHedging } from "./hedging.ts";
import { readSticky } from "./sticky.ts";
import type { ServiceConfig, ServiceSettings } from "./types.ts";

/** The service a top-level `backends` list forms, and discovered containers join by default. */
export const DEFAULT_SERVICE = "default";

/** The settings of a config that sets none of them. */
export const SETTINGS_DEFAULTS: ServiceSettings = Object.freeze({
  strategy: "round_robin",
  healthCheck: HEALTH_CHECK_DEFAULTS,
  retries: RESILIENCE_DEFAULTS.retries,
  passive: RESILIENCE_DEFAULTS.passive,
  slowStartMs: RESILIENCE_DEFAULTS.slowStartMs,
  queue: RESILIENCE_DEFAULTS.queue,
  hash: Object.freeze({ key: "client_ip" }),
  tuning: Object.freeze({}),
  hedging: null,
  sticky: null,
});

/** The keys of a service's settings, at the top level and in each service. */
export const SETTINGS_KEYS = [
  "strategy",
  "health_check",
  "retries",
  "passive",
  "slow_start",
  "queue",
  "hash",
  "peak_ewma",
  "least_resources",
  "hedging",
  "sticky",
] as const;

const SERVICE_KEYS = [...SETTINGS_KEYS, "backends"] as const;
const NAME = /^[a-z0-9_.-]{1,64}$/;
/** Metrics label requests that matched no route or found no backend with `service="none"`. */
const RESERVED = new Set(["none"]);

/**
 * Read the settings keys of a mapping (the top level, or one service) over `base`.
 *
 * @param at field path prefix for messages: "" or `services.api.`
 */
export function readSettings(
  r: Reader,
  m: Map<string, Node>,
  base: ServiceSettings,
  at: string,
): ServiceSettings | undefined {
  const strategy = readStrategy(r, m.get("strategy"), base.strategy, at);
  const healthCheck = readHealthCheck(r, m.get("health_check"), base.healthCheck, at);
  const retries = readRetries(r, m.get("retries"), base.retries, at);
  const passive = readPassive(r, m.get("passive"), base.passive, at);
  const slowStartMs = readSlowStart(r, m.get("slow_start"), base.slowStartMs, at);
  const queue = readQueue(r, m.get("queue"), base.queue, at);
  const key = readHashKey(r, m.get("hash"), base.hash.key, at);
  const tuning = readTuning(r, m.get("peak_ewma"), m.get("least_resources"), base.tuning, at);
  const hedging = readHedging(r, m.get("hedging"), base.hedging, at);
  const sticky = readSticky(r, m.get("sticky"), base.sticky, at);
  if (
    strategy === undefined || !healthCheck || !retries || !passive || slowStartMs === undefined || !queue ||
    key === undefined || !tuning || hedging === undefined || sticky === undefined
  ) return undefined;
  return {
    strategy,
    healthCheck,
    retries,
    passive,
    slowStartMs,
    queue,
    hash: key === base.hash.key ? base.hash : { key },
    tuning,
    hedging,
    sticky,
  };
}

/**
 * The cookie a service's sticky sessions use. A service that names no `sticky.cookie` of its own
 * in a config of several services gets `<cookie>_<service>`: services behind one host share the
 * client's cookie jar, and two services under one cookie name would overwrite each other's
 * affinity on every request (Traefik derives its default cookie name from the service for the
 * same reason).
 */
function serviceCookie(
  r: Reader,
  own: Map<string, Node>,
  name: string,
  settings: ServiceSettings,
  several: boolean,
): ServiceSettings {
  const sticky = settings.sticky;
  if (!sticky || !several) return settings;
  const node = r.nodeOf(own.get("sticky"));
  if (isMap(node) && node.has("cookie")) return settings;
  return { ...settings, sticky: { ...sticky, cookie: `${sticky.cookie}_${name}` } };
}

/**
 * Read `services`: every service over the top-level `defaults`.
 *
 * @param discovering Docker discovery is on: a service may list no backends (containers join it).
 */
export function readServices(
  r: Reader,
  node: Node | undefined,
  defaults: ServiceSettings,
  discovering: boolean,
): ServiceConfig[] | undefined {
  const entries = r.entries(node, "services");
  if (!entries) return undefined;
  if (entries.length === 0) {
    r.fail(r.nodeOf(node), "services", "must name at least one service");
    return undefined;
  }
  const out: ServiceConfig[] = [];
  let ok = true;
  for (const { name, key, value } of entries) {
    const path = `services.${name}`;
    if (!NAME.test(name) || RESERVED.has(name)) {
      r.fail(
        key,
        path,
        RESERVED.has(name)
          ? `"${name}" is reserved (metrics label unrouted requests service="none")`
          : `service names must match [a-z0-9_.-]{1,64}, got "${name}"`,
      );
      ok = false;
      continue;
    }
    const m = r.map(value, path, SERVICE_KEYS);
    if (!m) {
      ok = false;
      continue;
    }
    const settings = readSettings(r, m, defaults, `${path}.`);
    let backends = m.has("backends")
      ? readBackends(r, m.get("backends"), discovering, `${path}.backends`)
      : [];
    if (!m.has("backends") && !discovering) {
      r.fail(
        r.nodeOf(value),
        `${path}.backends`,
        "is required: list at least one backend (or enable discovery.docker)",
      );
      backends = undefined;
    }
    if (!settings || !backends) {
      ok = false;
      continue;
    }
    out.push({ name, ...serviceCookie(r, m, name, settings, entries.length > 1), backends });
  }
  return ok ? out : undefined;
}
