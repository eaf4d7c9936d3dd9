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

/** A request id we pass on unchanged: printable ASCII without spaces, at most 200 bytes. */
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/** Names listed in a `Connection` header, lower case. */
function connectionTokens(value: string | null): Set<string> | undefined {
  if (!value) return undefined;
  const out = new Set<string>();
  for (const t of value.split(",")) {
    const name = t.trim().toLowerCase();
    if (name) out.add(name);
  }
  return out;
}

/**
 * Request headers as `Headers` reads them (case-insensitive `get`, lower-case names with repeats
 * joined when iterated); the public listener's `RequestHeaders` reads the same way.
 */
export interface HeaderReader extends Iterable<[string, string]> {
  get(name: string): string | null;
}

/** Inputs for {@linkcode upstreamHeaders}. */
export interface ForwardInfo {
  /** The socket peer's address. */
  readonly clientIp: string;
  /** `http` or `https`: how the client reached us. */
  readonly proto: string;
  /** The request id to send (see {@linkcode requestIdOf}). */
  readonly requestId: string;
}

/**
 * Headers for the upstream request: the client's headers without hop-by-hop ones, `Host` kept,
 * `X-Forwarded-For` appended, `X-Forwarded-Proto`/`-Host` and `X-Request-Id` set.
 *
 * @example
 * ```ts
 * import { upstreamHeaders } from "./headers.ts";
 * const h = upstreamHeaders(new Headers({ host: "a.example", connection: "x-foo", "x-foo": "1" }),
 *   { clientIp: "10.0.0.1", proto: "http", requestId: "r1" });
 * h["x-foo"]; // undefined: named by Connection
 * ```
 */
export function upstreamHeaders(incoming: HeaderReader, info: ForwardInfo): Record<string, string> {
  const named = connectionTokens(incoming.get("connection"));
  const out: Record<string, string> = {};
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = value;
  }
  const prior = out["x-forwarded-for"];
  out["x-forwarded-for"] = prior ? `${prior}, ${info.clientIp}` : info.clientIp;
  out["x-forwarded-proto"] = info.proto;
  if (out["host"] !== undefined) out["x-forwarded-host"] = out["host"];
  out["x-request-id"] = info.requestId;
  return out;
}

/** The client's `X-Request-Id` when sane, else a fresh UUID. */
export function requestIdOf(incoming: Pick<HeaderReader, "get">): string {
  const id = incoming.get("x-request-id");
  return id !== null && SANE_REQUEST_ID.test(id) ? id : crypto.randomUUID();
}

/**
 * Response headers for the client from the backend's raw header pairs, without hop-by-hop ones,
 * as flat pairs again. Repeated headers stay repeated (each `Set-Cookie` separate).
 *
 * @example
 * ```ts
 * import { downstreamHeaders } from "./headers.ts";
 * downstreamHeaders(["Content-Type", "text/plain", "Connection", "close"]); // ["Content-Type", "text/plain"]
 * ```
 */
export function downstreamHeaders(raw: readonly string[]): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === "connection") {
      named ??= new Set();
      for (const t of connectionTokens(raw[i + 1]) ?? []) named.add(t);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}
