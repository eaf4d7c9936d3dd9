/**
 * Header rewriting between client and backend.
 *
 * Hop-by-hop headers describe one connection, not the message, and must not be forwarded
 * (RFC 9110 section 7.6.1): `Connection` and every header it lists, plus `Keep-Alive`,
 * `Proxy-Connection` (pre-standard, still sent by clients), `TE`, `Trailer`,
 * `Transfer-Encoding` and `Upgrade`. Forwarding information follows the de-facto
 * `X-Forwarded-*` headers that Traefik, Envoy and NGINX set.
 *
 * @module
 */

import type { RandomIds } from "../base/mod.ts";
import { connectionTokens, lowerName } from "../http1/mod.ts";
import type { HeaderReader } from "../net/mod.ts";
import { LOAD_REPORT_BIN_HEADER, LOAD_REPORT_HEADER } from "../upstream/mod.ts";
import type { TraceHeaders } from "./trace.ts";

/** Hop-by-hop header names, lower case. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Response headers meant for the proxy alone, removed like hop-by-hop ones: a backend's ORCA load
 * report (`Endpoint-Load-Metrics`, and its binary twin) describes the backend to its balancer, not
 * the response to the client, and would tell clients how loaded each server is.
 */
export const FOR_THE_PROXY: ReadonlySet<string> = new Set([LOAD_REPORT_HEADER, LOAD_REPORT_BIN_HEADER]);

/** A request id we pass on unchanged: printable ASCII without spaces, at most 200 bytes. */
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * The lengths of the names a forwarded header is compared with: a name of another length is
 * forwarded without a lower-cased copy (most of a response's fields, whose names come capitalised).
 */
const CHECKED_LENGTHS: ReadonlySet<number> = new Set([...HOP_BY_HOP, ...FOR_THE_PROXY].map((n) => n.length));

/** Names listed by every `Connection` field in flat header pairs (lower case); undefined when none. */
function namedByConnection(raw: readonly string[], lower?: readonly string[]): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && (lower ? lower[i >> 1] : lowerName(raw[i])) === "connection") {
      const value = raw[i + 1];
      // The common `Connection: keep-alive` names a field that is hop-by-hop anyway: no set.
      if (value.length === 10 && value.toLowerCase() === "keep-alive") continue;
      named ??= new Set();
      for (const t of connectionTokens(value)) named.add(t);
    }
  }
  return named;
}

/** Inputs for {@linkcode upstreamHeaders}. */
export interface ForwardInfo {
  /** The socket peer's address. */
  readonly clientIp: string;
  /** `http` or `https`: how the client reached us. */
  readonly proto: string;
  /** The request id to send (see {@linkcode requestIdOf}). */
  readonly requestId: string;
  /**
   * The protocols of an upgrade request (see {@linkcode upgradeOf}): `Upgrade` and
   * `Connection: upgrade` are then the two hop-by-hop fields forwarded, so the backend can
   * answer 101.
   */
  readonly upgrade?: string;
  /**
   * With trace context on: the client's `traceparent` and `tracestate` are replaced by these
   * (see lib/proxy/trace.ts); absent, they pass unchanged.
   */
  readonly trace?: TraceHeaders;
}

/**
 * The `Upgrade` value of a request that asks to switch protocols (RFC 9110 section 7.8): an
 * HTTP/1.1 request whose `Connection` names `upgrade`; undefined otherwise (HTTP/1.0 cannot
 * upgrade, and an `Upgrade` field without the connection option is only a hop-by-hop leftover).
 */
export function upgradeOf(version: string, headers: HeaderReader): string | undefined {
  if (version !== "HTTP/1.1") return undefined;
  const upgrade = headers.get("upgrade");
  if (!upgrade) return undefined;
  const connection = headers.get("connection");
  return connection && connectionTokens(connection).includes("upgrade") ? upgrade : undefined;
}

/**
 * Headers for the upstream request, as flat pairs, from the client's (`raw`, flat pairs as sent):
 * hop-by-hop ones removed, `Host` kept, `X-Forwarded-For` appended, `X-Forwarded-Proto`/`-Host`
 * and `X-Request-Id` set, and the trace context replaced when `info.trace` is given. Works on the
 * pairs directly: no map is built on the hot path. `lower`, when the parser has them, are the
 * names in lower case (one per pair), which saves lower-casing each name again.
 *
 * @example
 * ```ts
 * import { upstreamHeaders } from "./headers.ts";
 * upstreamHeaders(["Host", "a.example", "Connection", "x-foo", "X-Foo", "1"],
 *   { clientIp: "10.0.0.1", proto: "http", requestId: "r1" });
 * // ["Host", "a.example", "x-forwarded-for", "10.0.0.1", "x-forwarded-proto", "http",
 * //  "x-forwarded-host", "a.example", "x-request-id", "r1"]
 * ```
 */
export function upstreamHeaders(
  raw: readonly string[],
  info: ForwardInfo,
  lower?: readonly string[],
): string[] {
  const named = namedByConnection(raw, lower);
  const out: string[] = [];
  let forwardedFor: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = lower ? lower[i >> 1] : lowerName(raw[i]);
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    const value = raw[i + 1];
    switch (name) {
      case "x-forwarded-for":
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      case "x-forwarded-proto":
      case "x-forwarded-host":
      case "x-request-id":
        continue; // replaced below
      case "traceparent":
      case "tracestate":
        if (info.trace) continue;
        break;
      case "host":
        host ??= value;
    }
    out.push(raw[i], value);
  }
  out.push("x-forwarded-for", forwardedFor ? `${forwardedFor}, ${info.clientIp}` : info.clientIp);
  out.push("x-forwarded-proto", info.proto);
  if (host !== undefined) out.push("x-forwarded-host", host);
  out.push("x-request-id", info.requestId);
  const trace = info.trace;
  if (trace?.traceparent !== undefined) {
    out.push("traceparent", trace.traceparent);
    if (trace.tracestate !== undefined) out.push("tracestate", trace.tracestate);
  }
  if (info.upgrade !== undefined) out.push("connection", "upgrade", "upgrade", info.upgrade);
  return out;
}

/** The client's `X-Request-Id` when sane, else a fresh random UUID drawn from `ids`. */
export function requestIdOf(incoming: HeaderReader, ids: RandomIds): string {
  const id = incoming.get("x-request-id");
  return id !== null && SANE_REQUEST_ID.test(id) ? id : ids.uuid();
}

/**
 * Response headers for the client from the backend's raw header pairs, without hop-by-hop ones
 * and without those meant for the proxy ({@linkcode FOR_THE_PROXY}), as flat pairs again. Repeated
 * headers stay repeated (each `Set-Cookie` separate). For a 101 (`switching`), `Upgrade` is kept.
 *
 * @example
 * ```ts
 * import { downstreamHeaders } from "./headers.ts";
 * downstreamHeaders(["Content-Type", "text/plain", "Connection", "close"]); // ["Content-Type", "text/plain"]
 * ```
 */
export function downstreamHeaders(raw: readonly string[], switching = false): string[] {
  const named = namedByConnection(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (named || CHECKED_LENGTHS.has(name.length)) {
      const lower = lowerName(name);
      // A 101 keeps `Upgrade`: it names the protocol the tunnel now speaks (RFC 9110 section 7.8).
      if (
        !(switching && lower === "upgrade") &&
        (HOP_BY_HOP.has(lower) || named?.has(lower) || FOR_THE_PROXY.has(lower))
      ) {
        continue;
      }
    }
    out.push(name, raw[i + 1]);
  }
  return out;
}
