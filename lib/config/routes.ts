/**
 * `routes`: which service answers a request, by host, path prefix, method and headers; the first
 * route that matches wins, in file order, as in Envoy's route table and NGINX's regex locations.
 *
 * Beyond each field's own checks, the table is checked as a whole: a route an earlier one always
 * matches first can never be used, which is always a mistake (usually a catch-all placed first),
 * so it is an error naming both.
 *
 * @module
 */

import type { Node } from "yaml";
import { type HostPattern, parseHostPattern } from "../net/mod.ts";
import { suggest } from "./reader.ts";
import type { Reader } from "./reader.ts";
import type { RouteConfig, RouteMatch, SplitTarget } from "./types.ts";

const ROUTE_KEYS = ["name", "match", "service", "split", "strip_prefix"] as const;
const MATCH_KEYS = ["host", "path_prefix", "methods", "headers"] as const;
const SPLIT_KEYS = ["service", "weight"] as const;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const METHOD = /^[A-Z]{1,20}$/;

/** The one route of a config that lists none: everything to its only service. */
export function catchAll(service: string): RouteConfig {
  return { name: "routes[0]", match: {}, targets: [{ service, weight: 1 }], stripPrefix: false };
}

/**
 * Read `routes` against the known service names.
 *
 * @returns the routes; undefined when any is invalid (every problem reported)
 */
export function readRoutes(
  r: Reader,
  node: Node | undefined,
  services: readonly string[],
): RouteConfig[] | undefined {
  const items = r.seq(node, "routes");
  if (!items) return undefined;
  if (items.length === 0) {
    r.fail(r.nodeOf(node), "routes", "must list at least one route");
    return undefined;
  }
  const out: RouteConfig[] = [];
  const nodes: Node[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const route = readRoute(r, item, `routes[${i}]`, services);
    if (!route) return void (ok = false);
    out.push(route);
    nodes.push(item);
  });
  if (!ok) return undefined;
  for (let j = 1; j < out.length; j++) {
    const earlier = out.slice(0, j).findIndex((a) => covers(a.match, out[j].match));
    if (earlier === -1) continue;
    r.fail(
      r.nodeOf(nodes[j]),
      `routes[${j}]`,
      `can never match: ${out[earlier].name} above matches every request it would (first match wins)`,
    );
    ok = false;
  }
  return ok ? out : undefined;
}

function readRoute(
  r: Reader,
  node: Node,
  path: string,
  services: readonly string[],
): RouteConfig | undefined {
  const m = r.map(node, path, ROUTE_KEYS);
  if (!m) return undefined;
  let ok = true;
  let name = path;
  if (m.has("name")) {
    const given = r.string(m.get("name"), `${path}.name`);
    if (given !== undefined && !NAME.test(given)) {
      r.fail(r.nodeOf(m.get("name")), `${path}.name`, `must match [A-Za-z0-9_.-]{1,64}, got "${given}"`);
      ok = false;
    } else if (given === undefined) ok = false;
    else name = given;
  }
  const match = m.has("match") ? readMatch(r, m.get("match"), `${path}.match`) : {};
  let targets: SplitTarget[] | undefined;
  if (m.has("service") === m.has("split")) {
    r.fail(r.nodeOf(node), path, "needs exactly one of service or split");
  } else if (m.has("service")) {
    const service = readServiceName(r, m.get("service"), `${path}.service`, services);
    if (service !== undefined) targets = [{ service, weight: 1 }];
  } else targets = readSplit(r, m.get("split"), `${path}.split`, services);
  const stripPrefix = m.has("strip_prefix")
    ? r.boolean(m.get("strip_prefix"), `${path}.strip_prefix`)
    : false;
  if (stripPrefix && match?.pathPrefix === undefined) {
    r.fail(
      r.nodeOf(m.get("strip_prefix")),
      `${path}.strip_prefix`,
      "needs match.path_prefix: there is nothing to strip",
    );
    ok = false;
  }
  if (!ok || !match || !targets || stripPrefix === undefined) return undefined;
  return { name, match, targets, stripPrefix };
}

function readServiceName(r: Reader, node: Node | undefined, path: string, services: readonly string[]) {
  const name = r.string(node, path);
  if (name === undefined) return undefined;
  if (services.includes(name)) return name;
  const hint = suggest(name, services);
  r.fail(
    r.nodeOf(node),
    path,
    `unknown service "${name}"${hint ? ` (did you mean ${hint}?)` : ""}; services: ${services.join(", ")}`,
  );
  return undefined;
}

function readSplit(r: Reader, node: Node | undefined, path: string, services: readonly string[]) {
  const items = r.seq(node, path);
  if (!items) return undefined;
  if (items.length < 2) {
    r.fail(r.nodeOf(node), path, "must list at least two services (for one, use service:)");
    return undefined;
  }
  const out: SplitTarget[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const at = `${path}[${i}]`;
    const m = r.map(item, at, SPLIT_KEYS);
    if (!m) return void (ok = false);
    if (!m.has("service") || !m.has("weight")) {
      r.fail(r.nodeOf(item), at, "needs service and weight");
      return void (ok = false);
    }
    const service = readServiceName(r, m.get("service"), `${at}.service`, services);
    const weight = r.integer(m.get("weight"), `${at}.weight`, 1, 10_000, "a positive integer");
    if (service !== undefined && out.some((t) => t.service === service)) {
      r.fail(r.nodeOf(m.get("service")), `${at}.service`, `"${service}" is already in this split`);
      return void (ok = false);
    }
    if (service === undefined || weight === undefined) return void (ok = false);
    out.push({ service, weight });
  });
  return ok ? out : undefined;
}

function readMatch(r: Reader, node: Node | undefined, path: string): RouteMatch | undefined {
  const m = r.map(node, path, MATCH_KEYS);
  if (!m) return undefined;
  let ok = true;
  let host: HostPattern | undefined;
  if (m.has("host")) {
    const text = r.string(m.get("host"), `${path}.host`);
    const parsed = text === undefined ? undefined : parseHostPattern(text);
    if (parsed && !parsed.ok) r.fail(r.nodeOf(m.get("host")), `${path}.host`, parsed.error);
    if (parsed?.ok) host = parsed.pattern;
    else ok = false;
  }
  let pathPrefix: string | undefined;
  if (m.has("path_prefix")) {
    const text = r.string(m.get("path_prefix"), `${path}.path_prefix`);
    if (text === undefined) ok = false;
    else if (!/^\/[\x21-\x7e]*$/.test(text) || text.includes("?") || text.includes("#")) {
      r.fail(
        r.nodeOf(m.get("path_prefix")),
        `${path}.path_prefix`,
        `must be a path starting with / without spaces, query or fragment, got "${text}"`,
      );
      ok = false;
    } else pathPrefix = text.replace(/\/+$/, "") || "/";
  }
  const methods = m.has("methods") ? readMethods(r, m.get("methods"), `${path}.methods`) : null;
  const headers = m.has("headers") ? readHeaders(r, m.get("headers"), `${path}.headers`) : null;
  if (!ok || methods === undefined || headers === undefined) return undefined;
  return {
    ...(host ? { host } : {}),
    ...(pathPrefix !== undefined && pathPrefix !== "/" ? { pathPrefix } : {}),
    ...(methods ? { methods } : {}),
    ...(headers ? { headers } : {}),
  };
}

function readMethods(r: Reader, node: Node | undefined, path: string): string[] | undefined {
  const items = r.seq(node, path);
  if (!items) return undefined;
  const out: string[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const text = r.string(item, `${path}[${i}]`);
    if (text === undefined) return void (ok = false);
    if (!METHOD.test(text)) {
      // Methods are case-sensitive (RFC 9110 section 9.1): "get" would never match a GET.
      const hint = /^[A-Za-z]+$/.test(text) ? ` (methods are case-sensitive: ${text.toUpperCase()}?)` : "";
      r.fail(r.nodeOf(item), `${path}[${i}]`, `must be a method like GET or POST${hint}, got "${text}"`);
      return void (ok = false);
    }
    if (!out.includes(text)) out.push(text);
  });
  if (ok && out.length === 0) {
    r.fail(r.nodeOf(node), path, "must list at least one method (or leave methods out)");
    ok = false;
  }
  return ok ? out : undefined;
}

function readHeaders(r: Reader, node: Node | undefined, path: string): [string, string][] | undefined {
  const entries = r.entries(node, path);
  if (!entries) return undefined;
  const out: [string, string][] = [];
  let ok = true;
  for (const { name, key, value } of entries) {
    if (!TOKEN.test(name)) {
      r.fail(key, `${path}.${name}`, "must be a header name (a token, no spaces)");
      ok = false;
      continue;
    }
    const s = r.scalar(value, `${path}.${name}`);
    if (!s || s.value === null || typeof s.value === "object") {
      if (s) r.fail(s.node, `${path}.${name}`, "must be the exact value to match");
      ok = false;
      continue;
    }
    out.push([name.toLowerCase(), String(s.value)]);
  }
  return ok ? out : undefined;
}

/** True when every request `b` matches is matched by `a` too (so `a` placed first shadows `b`). */
function covers(a: RouteMatch, b: RouteMatch): boolean {
  if (a.host && !(b.host && hostCovers(a.host, b.host))) return false;
  if (a.pathPrefix !== undefined) {
    const p = b.pathPrefix;
    if (p === undefined || !(p === a.pathPrefix || p.startsWith(`${a.pathPrefix}/`))) return false;
  }
  if (a.methods && !(b.methods && b.methods.every((x) => a.methods!.includes(x)))) return false;
  if (a.headers && !a.headers.every(([n, v]) => b.headers?.some(([bn, bv]) => bn === n && bv === v))) {
    return false;
  }
  return true;
}

function hostCovers(a: HostPattern, b: HostPattern): boolean {
  if (a.kind === "exact") return b.kind === "exact" && b.name === a.name;
  if (b.kind === "exact") return b.name.endsWith(a.suffix) && b.name.length > a.suffix.length;
  return b.suffix.endsWith(a.suffix);
}
