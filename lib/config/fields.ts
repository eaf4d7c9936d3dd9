/**
 * Field readers shared by the config sections: durations, listen addresses and backends.
 *
 * @module
 */

import { isScalar, type Node } from "yaml";
import type { BackendConfig, ListenAddress } from "./types.ts";
import type { Reader } from "./reader.ts";
import { parseDuration } from "./duration.ts";
import { readBackendTls } from "./backend_tls.ts";

/** Longest duration accepted anywhere: timers beyond ~24 days overflow in JS runtimes. */
const MAX_DURATION_MS = 24 * 3_600_000;

/** Read a Go-style duration of at least `minMs` milliseconds. */
export function readDuration(
  r: Reader,
  node: Node | undefined,
  path: string,
  minMs: number,
): number | undefined {
  const s = r.scalar(node, path);
  if (!s) return undefined;
  const ms = typeof s.value === "string" ? parseDuration(s.value) : s.value === 0 ? 0 : undefined;
  if (ms === undefined) {
    r.fail(s.node, path, `must be a duration like 250ms, 5s or 1m, got ${JSON.stringify(s.value)}`);
    return undefined;
  }
  if (ms < minMs || ms > MAX_DURATION_MS) {
    r.fail(s.node, path, `must be between ${minMs}ms and 24h, got ${JSON.stringify(s.value)}`);
    return undefined;
  }
  return ms;
}

/**
 * Read a section that is either a mapping of `keys` or `false` (off, so a service can turn off
 * what the top level turned on): its entries, null for `false`, undefined after an error.
 *
 * @param example what a valid mapping looks like, for the message
 */
export function readSwitchable(
  r: Reader,
  node: Node | undefined,
  path: string,
  keys: readonly string[],
  example: string,
): Map<string, Node> | null | undefined {
  const n = r.deref(node);
  if (!isScalar(n)) return r.map(node, path, keys);
  if (n.value === false) return null;
  r.fail(n, path, `must be a mapping like ${example}, or false, got ${JSON.stringify(n.value)}`);
  return undefined;
}

/** Read `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function readListen(r: Reader, node: Node | undefined, path: string): ListenAddress | undefined {
  const text = r.string(node, path);
  if (text === undefined) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    r.fail(r.nodeOf(node), path, `must be host:port (e.g. "0.0.0.0:8080" or "[::]:8080"), got "${text}"`);
    return undefined;
  }
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

const NAME = /^[a-z0-9_.-]{1,64}$/;
const BACKEND_KEYS = ["name", "url", "weight", "max_connections", "container", "tls"] as const;

/**
 * Read the `backends` list: names unique, URLs plain origins, weights and connection limits
 * positive integers, containers valid Docker names, `tls` on `https://` URLs only (its CA file
 * read and parsed now, see lib/config/backend_tls.ts).
 *
 * @param allowEmpty an empty list is valid (Docker discovery supplies the backends).
 */
export function readBackends(
  r: Reader,
  node: Node | undefined,
  allowEmpty = false,
  at = "backends",
): BackendConfig[] | undefined {
  const items = r.seq(node, at);
  if (!items) return undefined;
  if (items.length === 0 && !allowEmpty) {
    r.fail(r.nodeOf(node), at, "must list at least one backend (or enable discovery.docker to find them)");
    return undefined;
  }
  if (items.length > 10_000) {
    r.fail(r.nodeOf(node), at, `at most 10000 backends are supported, got ${items.length}`);
    return undefined;
  }
  const out: BackendConfig[] = [];
  const seen = new Map<string, number>();
  let ok = true;
  items.forEach((item, i) => {
    const path = `${at}[${i}]`;
    const m = r.map(item, path, BACKEND_KEYS);
    if (!m) return void (ok = false);
    if (!m.has("url")) {
      r.fail(r.nodeOf(item), `${path}.url`, "is required");
      return void (ok = false);
    }
    const url = readOrigin(r, m.get("url"), `${path}.url`);
    const weight = m.has("weight")
      ? r.integer(m.get("weight"), `${path}.weight`, 1, 10_000, "a positive integer")
      : 1;
    let name: string | undefined = url ? defaultName(url) : undefined;
    if (m.has("name")) {
      name = r.string(m.get("name"), `${path}.name`);
      if (name !== undefined && !NAME.test(name)) {
        r.fail(r.nodeOf(m.get("name")), `${path}.name`, `must match [a-z0-9_.-]{1,64}, got "${name}"`);
        name = undefined;
      }
    }
    if (name !== undefined && seen.has(name)) {
      r.fail(
        r.nodeOf(m.get("name") ?? item),
        `${path}.name`,
        `duplicate backend name "${name}" (also ${at}[${seen.get(name)}])`,
      );
      name = undefined;
    }
    const maxConnections = m.has("max_connections")
      ? r.integer(m.get("max_connections"), `${path}.max_connections`, 1, 1_000_000, "a positive integer")
      : null;
    const container = m.has("container") ? readContainer(r, m.get("container"), `${path}.container`) : null;
    const tls = m.has("tls") ? readBackendTls(r, m.get("tls"), `${path}.tls`, url) : null;
    if (
      name === undefined || url === undefined || weight === undefined || maxConnections === undefined ||
      container === undefined || tls === undefined
    ) {
      return void (ok = false);
    }
    seen.set(name, i);
    out.push({
      name,
      url,
      weight,
      ...(maxConnections === null ? {} : { maxConnections }),
      ...(container === null ? {} : { container }),
      ...(tls === null ? {} : { tls }),
    });
  });
  return ok ? out : undefined;
}

/** Read an http(s) origin; a path other than "/" is refused rather than silently dropped. */
function readOrigin(r: Reader, node: Node | undefined, path: string): string | undefined {
  const text = r.string(node, path);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    r.fail(r.nodeOf(node), path, `must be an absolute http(s) URL like http://10.0.0.5:8080, got "${text}"`);
    return undefined;
  }
  const problem = url.protocol !== "http:" && url.protocol !== "https:"
    ? "scheme must be http or https"
    : url.username || url.password
    ? "must not contain credentials"
    : url.pathname !== "/" || url.search || url.hash || /[?#]$/.test(text)
    ? "must be an origin without path, query or fragment"
    : undefined;
  if (problem) {
    r.fail(r.nodeOf(node), path, `${problem}, got "${text}"`);
    return undefined;
  }
  return url.origin;
}

/** "http://127.0.0.1:9001" -> "127.0.0.1_9001": readable and valid as a name and a label. */
function defaultName(origin: string): string {
  const u = new URL(origin);
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  return `${u.hostname.replace(/[^a-z0-9_.-]/g, "")}_${port}`.slice(0, 64);
}

/** Docker's own rule for container names, or a (short or full) hex id. */
const CONTAINER = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;

/** Read `backends[i].container`; an empty string (e.g. an unset `${VAR:-}`) means none. */
export function readContainer(r: Reader, node: Node | undefined, path: string): string | null | undefined {
  const text = r.string(node, path);
  if (text === undefined) return undefined;
  if (text === "") return null;
  if (!CONTAINER.test(text)) {
    r.fail(
      r.nodeOf(node),
      path,
      `must be a container name or id ([a-zA-Z0-9][a-zA-Z0-9_.-]*), got "${text}"`,
    );
    return undefined;
  }
  return text;
}
