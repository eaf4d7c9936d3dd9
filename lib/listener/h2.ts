/**
 * HTTP/2 for the TLS listener: `Deno.serve`, terminating TLS for the connections whose
 * ClientHello offered `h2`, with its requests turned into the proxy handler's `ServerRequest`
 * and the handler's answers back into `Response`s. So one handler serves HTTP/1.1 and HTTP/2
 * alike, and Deno's own HTTP/2 implementation does the framing, flow control and HPACK.
 *
 * It listens on loopback only; the TLS listener relays each h2 connection to it and tells it
 * who the client is by the relay's local port (`clientOf`).
 *
 * @module
 */

import type { Http1Handler } from "./connections.ts";
import type { ServerRequest } from "./exchange.ts";
import { RequestHeaders } from "./request_head.ts";
import type { ServerResponse } from "./response_writer.ts";

/** Connection-level fields HTTP/2 forbids in a response (RFC 9113 section 8.2.2). */
const CONNECTION_FIELDS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Start the loopback HTTP/2 server for `cert` and `key`.
 *
 * @param clientOf the client behind a relay, by the relay's local port
 * @throws {Error} when the pair does not load
 */
export function serveH2(
  pair: { readonly cert: string; readonly key: string },
  handler: Http1Handler,
  clientOf: (relayPort: number) => Deno.NetAddr | undefined,
  onError: (e: unknown) => void,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: pair.cert,
    key: pair.key,
    onListen: () => {},
    onError: (e) => {
      onError(e);
      return new Response("500 Internal Server Error\n", { status: 500 });
    },
  }, async (req, info) => {
    const remoteAddr = clientOf(info.remoteAddr.port) ?? info.remoteAddr;
    return toResponse(await handler(toServerRequest(req, remoteAddr)));
  });
}

/** An HTTP/2 request as the proxy handler reads requests. */
export function toServerRequest(req: Request, remoteAddr: Deno.NetAddr): ServerRequest {
  const url = new URL(req.url);
  const raw: string[] = [];
  const lower: string[] = [];
  // :authority is the request's Host (RFC 9113 section 8.3.1).
  if (!req.headers.has("host")) raw.push("host", url.host), lower.push("host");
  for (const [name, value] of req.headers) raw.push(name, value), lower.push(name);
  return {
    method: req.method,
    target: `${url.pathname}${url.search}`,
    version: "HTTP/2",
    headers: new RequestHeaders(raw, lower),
    body: req.body,
    remoteAddr,
    secure: true,
    signal: req.signal,
  };
}

/** The handler's answer as a `Response` for the HTTP/2 server. */
export function toResponse(res: ServerResponse): Response {
  const headers = new Headers();
  const h = res.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i].toLowerCase();
    if (!CONNECTION_FIELDS.has(name) && name !== "content-length") headers.append(name, h[i + 1]);
  }
  if (res.body instanceof ReadableStream && res.length !== undefined) {
    headers.set("content-length", String(res.length));
  }
  // A client that left (499) has nobody to answer; any status the Response type refuses is a 502.
  const status = res.status >= 200 && res.status <= 599 ? res.status : 502;
  const body = status === 204 || status === 304 ? null : res.body;
  return new Response(body as BodyInit | null, { status, headers });
}
