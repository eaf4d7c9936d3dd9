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
    const tally = { bytes: 0 };
    const res = await handler(toServerRequest(req, remoteAddr, tally));
    return toResponse(res, res.ended && ((bytesOut) => res.ended!({ bytesIn: tally.bytes, bytesOut })));
  });
}

/**
 * An HTTP/2 request as the proxy handler reads requests; `tally.bytes`, when given, counts the body
 * bytes the handler reads.
 */
export function toServerRequest(
  req: Request,
  remoteAddr: Deno.NetAddr,
  tally?: { bytes: number },
): ServerRequest {
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
    body: tally && req.body ? counted(req.body, (n) => tally.bytes += n) : req.body,
    remoteAddr,
    secure: true,
    signal: req.signal,
  };
}

/**
 * The handler's answer as a `Response` for the HTTP/2 server. `ended`, when given, is called once
 * with the body bytes handed to the server when the body has been read to its end or cancelled
 * (the client reset the stream).
 */
export function toResponse(res: ServerResponse, ended?: (bytesOut: number) => void): Response {
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
  let body = status === 204 || status === 304 ? null : res.body;
  if (ended) body = body === null ? (queueMicrotask(() => ended(0)), null) : tracked(body, ended);
  return new Response(body as BodyInit | null, { status, headers });
}

/** `body` passed through with `onChunk` told each chunk's length. */
function counted(body: ReadableStream<Uint8Array>, onChunk: (n: number) => void): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        onChunk(chunk.length);
        controller.enqueue(chunk);
      },
    }),
  );
}

const ENCODER = new TextEncoder();

/** A response body as a stream that reports once, at its end or cancel, how many bytes it gave. */
function tracked(
  body: Uint8Array | string | ReadableStream<Uint8Array>,
  ended: (bytesOut: number) => void,
): ReadableStream<Uint8Array> {
  let sent = 0;
  let done = false;
  const end = () => {
    if (!done) done = true, ended(sent);
  };
  if (!(body instanceof ReadableStream)) {
    const bytes = typeof body === "string" ? ENCODER.encode(body) : body;
    return new ReadableStream({
      pull(controller) {
        sent = bytes.length;
        controller.enqueue(bytes);
        controller.close();
        end();
      },
      cancel: end,
    });
  }
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return end();
        }
        sent += value.length;
        controller.enqueue(value);
      } catch (e) {
        controller.error(e);
        end();
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
