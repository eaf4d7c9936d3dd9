/**
 * Writing a response on the public listener: the status line, the handler's headers and the
 * framing, which is the server's alone (RFC 9112 section 6).
 *
 * A body known in full gets `Content-Length` and goes out in the same write as the head; a stream
 * keeps a `content-length` the handler passed (a proxied response of known length) or is sent
 * chunked, or delimited by closing the connection for an HTTP/1.0 client, which cannot read
 * chunked.
 *
 * @module
 */

import {
  type BufferedConn,
  encodeChunk,
  LAST_CHUNK,
  lowerName,
  STATUS_TEXT,
  type TunnelResult,
} from "../http1/mod.ts";

/** What a handler answers. */
export interface ServerResponse {
  readonly status: number;
  /**
   * Flat `[name, value, ...]`. Framing is the server's: `connection`, `keep-alive`,
   * `transfer-encoding` and `content-length` given here are ignored (give `length` instead).
   */
  readonly headers: readonly string[];
  readonly body: Uint8Array | string | ReadableStream<Uint8Array> | null;
  /**
   * The length of a stream body, sent as `Content-Length` (a stream that ends at another length
   * breaks the connection); for a response to HEAD or a 304, the length of the representation
   * not sent. Ignored for bytes and strings, which carry their own.
   */
  readonly length?: number;
  /**
   * With status 101: the other end of the tunnel the client's connection becomes once the head
   * is written (an `Upgrade`, such as a WebSocket).
   */
  readonly tunnel?: ServerTunnel;
  /**
   * Called once when the exchange is over: the response's last byte was handed to the socket (or
   * writing it failed), or, after a 101, the tunnel closed. For the access log; the server never
   * waits for it.
   */
  readonly ended?: (end: ExchangeEnd) => void;
}

/** What crossed the client connection for one exchange. */
export interface ExchangeEnd {
  /** Request body bytes read from the client (framing not counted); a tunnel adds what went up. */
  readonly bytesIn: number;
  /** Response body bytes written (framing not counted); a tunnel adds what came down. */
  readonly bytesOut: number;
}

/** The backend side of a tunnel, and who to tell when it is over. */
export interface ServerTunnel {
  /** The backend connection, with any bytes it sent after its 101 still buffered. */
  readonly conn: BufferedConn;
  /** Called once when the tunnel has closed, with how and what crossed it. */
  readonly closed: (result: TunnelResult) => void;
}

/**
 * A plain-text response the proxy writes itself, e.g. `textResponse(400, "Bad Request: bare LF")`.
 * `status` and `text` form the body's first line, so a client sees why without reading the status.
 */
export function textResponse(status: number, text: string, headers: readonly string[] = []): ServerResponse {
  return {
    status,
    headers: ["content-type", "text/plain; charset=utf-8", ...headers],
    body: `${status} ${text}\n`,
  };
}

/** The request facts the framing depends on. */
export interface ResponseContext {
  readonly method: string;
  readonly version: string;
  /** Keep the connection open after this response (the caller's decision so far). */
  readonly keepAlive: boolean;
  /** The `Date` value for this second. */
  readonly date: string;
}

/**
 * How writing a response went: the connection may carry another request, it must close as
 * planned (the client asked, or the framing needs it), or the write failed (the client is gone).
 */
export type WriteOutcome = "keep-alive" | "close" | "failed" | "switched";

const ENCODER = new TextEncoder();
/** Framing and connection fields are the server's to write, never the handler's. */
const IGNORED = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "proxy-connection",
  "content-length",
]);
/** The lengths of the names in {@linkcode IGNORED} and of `date`. */
const LOOKED_AT_LENGTHS = new Set([...IGNORED, "date"].map((n) => n.length));

/** The status line of each status with a reason phrase, composed once rather than per response. */
const STATUS_LINES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(STATUS_TEXT).map(([code, text]) => [code, `HTTP/1.1 ${code} ${text}\r\n`]),
);

/**
 * Write `res` on `conn`; `tally.bytesOut`, when given, is set to the body bytes handed to the
 * socket (a bytes body counts when its write starts: whoever sees the write throw resets it).
 *
 * Not async: most responses are one write, whose promise resolves to the verdict itself.
 *
 * @returns whether the connection may carry another request; a write that throws is "failed"
 */
export function writeResponse(
  conn: BufferedConn,
  ctx: ResponseContext,
  res: ServerResponse,
  tally?: { bytesOut: number },
): Promise<WriteOutcome> {
  const { status } = res;
  const head = ctx.method === "HEAD";
  const noBody = head || status < 200 || status === 204 || status === 304;
  let body = res.body;
  if (typeof body === "string") body = ENCODER.encode(body);
  // Before the head is composed: nothing may run between composing and sending it. Without its
  // body the response frames the same (its declared length stays).
  if (noBody && body instanceof ReadableStream) {
    return body.cancel().catch(() => {}).then(() => writeResponse(conn, ctx, { ...res, body: null }, tally));
  }
  let keepAlive = ctx.keepAlive;
  let length: number | undefined;
  let chunked = false;
  if (status < 200 || status === 204) {
    // No Content-Length at all (RFC 9110 section 8.6).
  } else if (body instanceof Uint8Array) {
    length = body.length;
  } else if (body === null) {
    // HEAD and 304 describe a representation not sent: its length when known, else none.
    length = noBody ? res.length : 0;
  } else if (res.length !== undefined) {
    length = res.length;
  } else if (!noBody) {
    if (ctx.version === "HTTP/1.1") chunked = true;
    else keepAlive = false;
  }
  conn.beginHead();
  conn.putHead(STATUS_LINES[status] ?? `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Unknown"}\r\n`);
  let date = false;
  const h = res.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i];
    // Only names as long as an ignored one or `date` need a lower-cased copy to compare.
    if (LOOKED_AT_LENGTHS.has(name.length)) {
      const lower = lowerName(name);
      if (IGNORED.has(lower)) continue;
      if (lower === "date") date = true;
    }
    conn.putHead(name);
    conn.putHead(": ");
    conn.putHead(h[i + 1]);
    conn.putHead("\r\n");
  }
  if (!date) {
    conn.putHead("date: ");
    conn.putHead(ctx.date);
    conn.putHead("\r\n");
  }
  if (length !== undefined && Number.isSafeInteger(length)) {
    conn.putHead("content-length: ");
    conn.putHead(String(length));
    conn.putHead("\r\n");
  }
  if (chunked) conn.putHead("transfer-encoding: chunked\r\n");
  if (status === 101 && res.tunnel) {
    // The connection switches protocols: it carries the tunnel, never another request.
    conn.putHead("connection: upgrade\r\n\r\n");
    return conn.sendHead<WriteOutcome>(undefined, "switched");
  }
  if (!keepAlive) conn.putHead("connection: close\r\n");
  else if (ctx.version === "HTTP/1.0") conn.putHead("connection: keep-alive\r\n");
  conn.putHead("\r\n");

  if (!(body instanceof ReadableStream)) {
    const tail = noBody || body === null || body.length === 0 ? undefined : body;
    if (tally && tail) tally.bytesOut = tail.length;
    return conn.sendHead<WriteOutcome>(tail, keepAlive ? "keep-alive" : "close");
  }
  return writeStream(conn, body, chunked, length, tally).then((ok) =>
    ok ? keepAlive ? "keep-alive" : "close" : "failed"
  );
}

/** Stream the body after the composed head; false when it broke or did not match its declared length. */
async function writeStream(
  conn: BufferedConn,
  body: ReadableStream<Uint8Array>,
  chunked: boolean,
  length: number | undefined,
  tally: { bytesOut: number } | undefined,
): Promise<boolean> {
  const reader = body.getReader();
  let sent = 0;
  let complete = false;
  try {
    await conn.sendHead();
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      if (length !== undefined && sent + value.length > length) return false; // more than declared
      sent += value.length;
      await conn.writeAll(chunked ? encodeChunk(value) : value);
    }
    if (chunked) await conn.writeAll(LAST_CHUNK);
    complete = length === undefined || sent === length;
    return complete;
  } catch {
    return false;
  } finally {
    if (tally) tally.bytesOut = sent;
    if (!complete) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
