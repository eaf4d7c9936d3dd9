/**
 * The Swarm keys of `discovery.docker`: `mode`, `poll_interval` and `dns_fallback`.
 *
 * `poll_interval` and `dns_fallback` mean something only in swarm mode, so either one with
 * `mode: containers` is an error rather than a setting silently ignored. A `dns_fallback` entry
 * names the service its tasks join; that service must exist, which {@linkcode checkDnsFallback}
 * checks once the services are read.
 *
 * @module
 */

import { isMap, isSeq, type Node } from "yaml";
import { readDuration } from "./fields.ts";
import type { Reader } from "./reader.ts";
import type { SwarmDnsTarget } from "./types.ts";

/** What {@linkcode readSwarmKeys} reads; defaults: containers, 5 s, no fallback. */
export interface SwarmKeys {
  readonly mode: "containers" | "swarm";
  readonly pollIntervalMs: number;
  readonly dnsFallback: readonly SwarmDnsTarget[];
}

/** Defaults of the Swarm keys. */
export const SWARM_DEFAULTS: SwarmKeys = { mode: "containers", pollIntervalMs: 5_000, dnsFallback: [] };

/** Keys of `discovery.docker` this module reads. */
export const SWARM_KEYS = ["mode", "poll_interval", "dns_fallback"] as const;

const MODES = ["containers", "swarm"] as const;
const TARGET_KEYS = ["name", "port", "service"] as const;
/** A Swarm service name or network alias: what `docker service create --name` accepts. */
const SWARM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** Service names of this config, as lib/config/services.ts accepts them. */
const SERVICE_NAME = /^[a-z0-9_.-]{1,64}$/;

/**
 * Read `mode`, `poll_interval` and `dns_fallback` from the `discovery.docker` mapping `m`.
 *
 * @example
 * ```yaml
 * discovery:
 *   docker: {enabled: true, mode: swarm, poll_interval: 5s, dns_fallback: [{name: backend, port: 9001}]}
 * ```
 */
export function readSwarmKeys(r: Reader, m: Map<string, Node>): SwarmKeys | undefined {
  const d = SWARM_DEFAULTS;
  const mode = m.has("mode") ? readMode(r, m.get("mode")) : d.mode;
  const pollIntervalMs = m.has("poll_interval")
    ? readDuration(r, m.get("poll_interval"), "discovery.docker.poll_interval", 250)
    : d.pollIntervalMs;
  const dnsFallback = m.has("dns_fallback") ? readTargets(r, m.get("dns_fallback")) : d.dnsFallback;
  if (mode === undefined || pollIntervalMs === undefined || dnsFallback === undefined) return undefined;
  if (mode === "containers") {
    for (const key of ["poll_interval", "dns_fallback"]) {
      if (!m.has(key)) continue;
      r.fail(r.nodeOf(m.get(key)), `discovery.docker.${key}`, "applies only with mode: swarm");
      return undefined;
    }
  }
  return { mode, pollIntervalMs, dnsFallback };
}

function readMode(r: Reader, node: Node | undefined): SwarmKeys["mode"] | undefined {
  const text = r.string(node, "discovery.docker.mode");
  if (text === undefined) return undefined;
  if ((MODES as readonly string[]).includes(text)) return text as SwarmKeys["mode"];
  r.fail(r.nodeOf(node), "discovery.docker.mode", `must be containers or swarm, got "${text}"`);
  return undefined;
}

function readTargets(r: Reader, node: Node | undefined): SwarmDnsTarget[] | undefined {
  const items = r.seq(node, "discovery.docker.dns_fallback");
  if (!items) return undefined;
  const out: SwarmDnsTarget[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const path = `discovery.docker.dns_fallback[${i}]`;
    const t = r.map(item, path, TARGET_KEYS);
    if (!t) return void (ok = false);
    if (!t.has("name")) {
      r.fail(r.nodeOf(item), `${path}.name`, "is required: the Swarm service whose tasks.<name> to resolve");
      return void (ok = false);
    }
    const name = readPattern(r, t.get("name"), `${path}.name`, SWARM_NAME, "a Swarm service name");
    const port = t.has("port") ? r.integer(t.get("port"), `${path}.port`, 1, 65535, "a port") : 80;
    const service = t.has("service")
      ? readPattern(
        r,
        t.get("service"),
        `${path}.service`,
        SERVICE_NAME,
        "a service name ([a-z0-9_.-]{1,64})",
      )
      : "default";
    if (name === undefined || port === undefined || service === undefined) return void (ok = false);
    if (out.some((o) => o.name === name)) {
      r.fail(r.nodeOf(t.get("name")), `${path}.name`, `"${name}" is listed twice`);
      return void (ok = false);
    }
    out.push({ name, port, service });
  });
  return ok ? out : undefined;
}

function readPattern(
  r: Reader,
  node: Node | undefined,
  path: string,
  pattern: RegExp,
  what: string,
): string | undefined {
  const text = r.string(node, path);
  if (text === undefined) return undefined;
  if (pattern.test(text)) return text;
  r.fail(r.nodeOf(node), path, `must be ${what}, got "${text}"`);
  return undefined;
}

/**
 * Once the services are known: every `dns_fallback[].service` must be one of them. `node` is the
 * config's `discovery` node, for the line of the offending entry.
 *
 * @returns false (with an error recorded) when some entry names a service the config lacks.
 */
export function checkDnsFallback(
  r: Reader,
  node: Node | undefined,
  targets: readonly SwarmDnsTarget[],
  services: readonly string[],
): boolean {
  let ok = true;
  targets.forEach((t, i) => {
    if (services.includes(t.service)) return;
    const item = entryNode(r, node, i);
    r.fail(
      item,
      `discovery.docker.dns_fallback[${i}].service`,
      `no such service "${t.service}" (services: ${services.join(", ")})`,
    );
    ok = false;
  });
  return ok;
}

/** The node of `docker.dns_fallback[i]` under the `discovery` node, when the file has one. */
function entryNode(r: Reader, node: Node | undefined, i: number): Node | undefined {
  const discovery = r.nodeOf(node);
  const docker = isMap(discovery) ? r.nodeOf(discovery.get("docker", true) as Node) : undefined;
  const list = isMap(docker) ? r.nodeOf(docker.get("dns_fallback", true) as Node) : undefined;
  return isSeq(list) ? (r.nodeOf(list.items[i] as Node) ?? undefined) : undefined;
}
