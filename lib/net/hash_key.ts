/**
 * The affinity key for hashing strategies (`hash.key`): the client IP, a request header or a
 * cookie, falling back to the client IP when the header or cookie is absent.
 *
 * The client IP is the socket peer. `X-Forwarded-For` is believed only when the peer is one of
 * `trusted_proxies`, and then only as far as the chain of trusted hops goes: the header is
 * walked right to left, skipping addresses inside `trusted_proxies`, and the first address
 * outside them is the client (nginx `real_ip_recursive on`). If every hop is trusted, the
 * leftmost one is the client; an unparsable entry ends the walk at the last good hop. A client
 * that is not behind a trusted proxy cannot choose its backend by sending the header, which is
 * what the Go project allowed.
 *
 * @module
 */

import { formatIp, parseIp } from "./ip_address.ts";
import { trustedAddresses } from "./trust.ts";

export { type Cidr, type CidrResult, parseCidr } from "./cidr.ts";

/** A parsed `hash.key`. */
export type HashKeySpec =
  | { readonly kind: "client_ip" }
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "cookie"; readonly name: string };

/** Result of {@linkcode parseHashKeySpec}. */
export type HashKeySpecResult = { ok: true; spec: HashKeySpec } | { ok: false; error: string };

/** Options for {@linkcode createHashKey}. */
export interface HashKeyOptions {
  /** `client_ip`, `header:<Name>` or `cookie:<name>`. */
  readonly key: string;
  /** CIDRs (or single addresses) of proxies whose `X-Forwarded-For` is believed. @default [] */
  readonly trustedProxies?: readonly string[];
}

/** Reads a request header by name, case-insensitively (`Headers` and the listener's headers both do). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** Computes a request's affinity key from the request and the socket peer's address. */
export type HashKeyFunction = (
  request: { readonly headers: HeaderReader },
  peerIp: string,
) => string;

/** RFC 9110 token: what header names and cookie names are made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Parse a `hash.key` value.
 *
 * @example Usage
 * ```ts
 * import { parseHashKeySpec } from "./hash_key.ts";
 * parseHashKeySpec("header:X-User"); // { ok: true, spec: { kind: "header", name: "X-User" } }
 * parseHashKeySpec("ip"); // { ok: false, error: 'Cannot use hash key "ip": ...' }
 * ```
 */
export function parseHashKeySpec(text: string): HashKeySpecResult {
  const fail = (why: string): HashKeySpecResult => ({
    ok: false,
    error: `Cannot use hash key "${text}": ${why}`,
  });
  if (text === "client_ip") return { ok: true, spec: { kind: "client_ip" } };
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  if (kind !== "header" && kind !== "cookie") {
    return fail("expected client_ip, header:<Name> or cookie:<name>");
  }
  const name = text.slice(colon + 1);
  if (colon < 0 || name === "") return fail(`expected a ${kind} name after "${kind}:"`);
  if (!TOKEN.test(name)) {
    return fail(`"${name}" is not a valid ${kind} name (letters, digits and !#$%&'*+-.^_\`|~)`);
  }
  return { ok: true, spec: { kind, name } };
}

/**
 * Build the affinity-key function for a `hash.key` and `trusted_proxies` setting.
 *
 * Addresses are returned in canonical form (`::ffff:1.2.3.4` as `1.2.3.4`, IPv6 compressed),
 * so one client has one key however its address was written.
 *
 * @throws {TypeError} when `key` or a trusted proxy is invalid; validate config with
 * {@linkcode parseHashKeySpec} and {@linkcode parseCidr} first to report errors as values.
 * @example Usage
 * ```ts
 * import { createHashKey } from "./hash_key.ts";
 * const hashKey = createHashKey({ key: "client_ip", trustedProxies: ["10.0.0.0/8"] });
 * const request = new Request("http://lb/", { headers: { "x-forwarded-for": "203.0.113.9, 10.0.0.2" } });
 * hashKey(request, "10.0.0.1"); // "203.0.113.9"
 * hashKey(request, "198.51.100.4"); // "198.51.100.4": that peer is not trusted
 * ```
 */
export function createHashKey(options: HashKeyOptions): HashKeyFunction {
  const parsed = parseHashKeySpec(options.key);
  if (!parsed.ok) throw new TypeError(parsed.error);
  const trustedProxies = options.trustedProxies ?? [];
  const isTrusted = trustedAddresses(trustedProxies);
  const clientIp: HashKeyFunction = (request, peerIp) => {
    const peer = parseIp(peerIp);
    if (peer === undefined) return peerIp; // not an IP socket (e.g. a Unix socket): nothing to resolve
    if (trustedProxies.length === 0 || !isTrusted(peer)) return formatIp(peer);
    const forwarded = request.headers.get("x-forwarded-for");
    if (forwarded === null) return formatIp(peer);
    let client = peer;
    const hops = forwarded.split(",");
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseIp(stripPort(hops[i].trim()));
      if (hop === undefined) break;
      client = hop;
      if (!isTrusted(hop)) break;
    }
    return formatIp(client);
  };
  const spec = parsed.spec;
  switch (spec.kind) {
    case "client_ip":
      return clientIp;
    case "header":
      return (request, peerIp) => request.headers.get(spec.name) || clientIp(request, peerIp);
    case "cookie":
      return (request, peerIp) =>
        cookieValue(request.headers.get("cookie"), spec.name) || clientIp(request, peerIp);
  }
}

/** `[2001:db8::1]:443` -> `2001:db8::1`, `192.0.2.1:80` -> `192.0.2.1`; anything else unchanged. */
function stripPort(hop: string): string {
  if (hop.startsWith("[")) {
    const end = hop.indexOf("]");
    return end > 0 ? hop.slice(1, end) : hop;
  }
  const colon = hop.indexOf(":");
  return colon > 0 && hop.indexOf(":", colon + 1) < 0 ? hop.slice(0, colon) : hop;
}

/**
 * Value of cookie `name` in a `Cookie` header (RFC 6265 §5.4), without surrounding quotes.
 * Commas split too: cookie values cannot contain them, and several `Cookie` fields (HTTP/2 sends
 * one per cookie) are joined with ", " by `Headers.get`.
 */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  for (const pair of header.split(/[;,]/)) {
    const eq = pair.indexOf("=");
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}
