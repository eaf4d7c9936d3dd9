/**
 * Host names as routes match them: a request's `Host` normalized once, and the patterns routes
 * are written with (`api.example.test` or `*.example.test`).
 *
 * Matching is case-insensitive and ignores a port and a trailing dot (`API.Example.test.:8080`
 * is `api.example.test`), as Traefik's `Host` rule and NGINX `server_name` do. A wildcard stands
 * for one or more whole labels on the left (`*.example.test` matches `a.example.test` and
 * `a.b.example.test`, never `example.test`), like Envoy's virtual-host domains.
 *
 * @module
 */

/** A host pattern: an exact name, or a suffix that must follow at least one label. */
export type HostPattern =
  | { readonly kind: "exact"; readonly name: string }
  | { readonly kind: "wildcard"; readonly suffix: string };

/** Result of {@linkcode parseHostPattern}. */
export type HostPatternResult = { ok: true; pattern: HostPattern } | { ok: false; error: string };

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function validName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  if (name.startsWith("[") && name.endsWith("]")) return /^\[[0-9a-f:.]+\]$/.test(name);
  return IPV4.test(name) || name.split(".").every((l) => LABEL.test(l));
}

/**
 * Parse a route's `host`: a name (`api.example.test`, an IPv4 address or `[v6]`) or `*.` and a
 * name. Case and a trailing dot are normalized away; a port is an error (routes match names).
 *
 * @example
 * ```ts
 * import { parseHostPattern } from "./host.ts";
 * parseHostPattern("*.Example.test"); // { ok: true, pattern: { kind: "wildcard", suffix: ".example.test" } }
 * parseHostPattern("a*b.test").ok; // false
 * ```
 */
export function parseHostPattern(text: string): HostPatternResult {
  const fail = (why: string): HostPatternResult => ({
    ok: false,
    error: `must be a host name like api.example.test or *.example.test (${why}), got "${text}"`,
  });
  let t = text.trim().toLowerCase();
  if (t.endsWith(".")) t = t.slice(0, -1);
  if (t === "") return fail("empty");
  if (t.startsWith("*.")) {
    const rest = t.slice(2);
    if (rest.includes("*")) return fail("one * only, as the leftmost label");
    if (!validName(rest) || IPV4.test(rest) || rest.startsWith("[")) return fail("not a valid name after *.");
    return { ok: true, pattern: { kind: "wildcard", suffix: `.${rest}` } };
  }
  if (t.includes("*")) return fail("* may only be the whole leftmost label");
  if (/:\d+$/.test(t) && !t.startsWith("[")) return fail("no port: routes match the name whatever the port");
  if (!validName(t)) return fail("letters, digits, hyphens and dots only");
  return { ok: true, pattern: { kind: "exact", name: t } };
}

/**
 * A request's `Host` as routes compare it: lower case, without port and trailing dot. An IPv6
 * literal keeps its brackets. Returns "" for an absent or empty host.
 *
 * @example
 * ```ts
 * import { normalizeHost } from "./host.ts";
 * normalizeHost("API.Example.test.:8080"); // "api.example.test"
 * normalizeHost("[::1]:8080"); // "[::1]"
 * ```
 */
export function normalizeHost(host: string | null): string {
  if (!host) return "";
  let end = host.length;
  if (host.charCodeAt(0) === 91) { // "["
    const close = host.indexOf("]");
    end = close === -1 ? host.length : close + 1;
  } else {
    const colon = host.lastIndexOf(":");
    if (colon !== -1) end = colon;
  }
  if (end > 0 && host.charCodeAt(end - 1) === 46) end--; // "."
  let out = end === host.length ? host : host.slice(0, end);
  for (let i = 0; i < out.length; i++) {
    const c = out.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      out = out.toLowerCase();
      break;
    }
  }
  return out;
}

/** True when the normalized `host` matches `pattern`. */
export function hostMatches(pattern: HostPattern, host: string): boolean {
  if (pattern.kind === "exact") return host === pattern.name;
  return host.length > pattern.suffix.length && host.endsWith(pattern.suffix);
}
