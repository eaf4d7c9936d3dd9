/**
 * The forwarder's own answers and the small edits it makes to a backend's: the 499 nobody reads,
 * the 404 for an unrouted request, 400 for a broken request body, 502 and 504 pages, the
 * `X-Request-Id` a response carries, and the tunnel a 101 opens.
 *
 * @module
 */

import type { Backend } from "../pool/mod.ts";
import { ProtocolError } from "../http1/mod.ts";
import type { UpstreamTunnel } from "../upstream/mod.ts";
import { type ServerRequest, type ServerResponse, type ServerTunnel, textResponse } from "../listener/mod.ts";
import type { Service } from "../service/mod.ts";

/** Status used in metrics when the client went away before the response (as NGINX logs it). */
export const CLIENT_CLOSED = 499;

/** The answer to a client that left: counted as 499, written to nobody. */
export const GONE: ServerResponse = Object.freeze({
  status: CLIENT_CLOSED,
  headers: Object.freeze([]),
  body: null,
});

/**
 * The client side of a backend's 101: the tunnel counts as the attempt's body (the backend stays
 * in flight, so `least_connections` sees it) and in `lb_open_tunnels` until it closes.
 */
export function tunnelOf(svc: Service, backend: Backend, upgraded: UpstreamTunnel): ServerTunnel {
  svc.metrics.tunnel(backend.name, 1);
  return {
    conn: upgraded.conn,
    closed: (result) => {
      svc.metrics.tunnel(backend.name, -1);
      upgraded.end(result.outcome === "reset" ? "reset" : "complete");
    },
  };
}

/** The 404 for a request no route matched, naming what was looked at (shortened, as text). */
export function notFound(req: ServerRequest, target: string): ServerResponse {
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  const host = req.headers.get("host") ?? "(none)";
  const short = (s: string) => s.length > 100 ? `${s.slice(0, 100)}...` : s;
  return textResponse(404, `Not Found: no route for host ${short(host)} path ${short(path)}`);
}

/**
 * The answer to a request whose body failed: broken chunked framing is the client's error (400);
 * anything else means it went away.
 */
export function bodyFailed(e: unknown): ServerResponse {
  return e instanceof ProtocolError ? textResponse(400, `Bad Request: ${(e as Error).message}`) : GONE;
}

/** Replace every `name` field (lower-case name) in flat pairs with one `name: value`. */
export function setHeader(headers: string[], name: string, value: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i].length === name.length && headers[i].toLowerCase() === name) headers.splice(i, 2);
  }
  headers.push(name, value);
}

/** A 502 or 504 page naming why, with the request id (and the backend when exposed). */
export function errorResponse(
  code: number,
  reason: string,
  backend: Backend,
  requestId: string,
  expose: boolean,
): ServerResponse {
  const headers = ["x-request-id", requestId];
  if (expose) headers.push("x-lb-backend", backend.name);
  return textResponse(code, `${code === 504 ? "Gateway Timeout" : "Bad Gateway"}: ${reason}`, headers);
}
