/**
 * Writing a request to a backend connection: the head composed in the connection's write
 * buffer, then the body as bytes in the same write, or streamed (chunked when its length is
 * unknown).
 *
 * @module
 */

import { encodeChunk, LAST_CHUNK } from "../http1/mod.ts";
import type { UpstreamConn } from "./conn.ts";
import { putRequestHead } from "./request_head.ts";
import type { UpstreamRequest } from "./types.ts";

/**
 * Write `r` on `conn`. A buffered body is sent with its own length; a stream is sent as it
 * arrives, chunked unless the request declared its length.
 *
 * @throws {Error} named `ClientBodyError` when the client's body stream fails, or the socket's error
 */
export function writeRequest(conn: UpstreamConn, r: UpstreamRequest): Promise<void> {
  const headers = r.headers;
  let length: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].length === 14 && headers[i].toLowerCase() === "content-length") length = headers[i + 1];
  }
  const body = r.body;
  // Not async: a request without a body or with bytes is one write, whose promise is returned as is.
  if (body instanceof Uint8Array) {
    // A buffered body is sent whole, with its own length (the client may have sent it chunked).
    const own = String(body.length);
    if (length === own) putRequestHead(conn, r.method, r.target, headers);
    else putRequestHead(conn, r.method, r.target, withoutLength(headers), `content-length: ${own}\r\n`);
    return conn.sendHead(body);
  }
  const hasLength = length !== undefined;
  const extra = body !== null && !hasLength ? "transfer-encoding: chunked\r\n" : "";
  putRequestHead(conn, r.method, r.target, headers, extra);
  return body === null ? conn.sendHead() : sendStreamed(conn, body, hasLength);
}

/** The head composed in `conn`'s buffer, then `body` as it arrives, chunked unless `hasLength`. */
async function sendStreamed(
  conn: UpstreamConn,
  body: ReadableStream<Uint8Array>,
  hasLength: boolean,
): Promise<void> {
  await conn.sendHead();
  const reader = body.getReader();
  try {
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        const err = new Error(`client body: ${(e as Error).message}`);
        err.name = "ClientBodyError";
        throw err;
      }
      if (chunk.done) break;
      if (chunk.value.length === 0) continue;
      await conn.writeAll(hasLength ? chunk.value : encodeChunk(chunk.value));
    }
    if (!hasLength) await conn.writeAll(LAST_CHUNK);
  } finally {
    reader.releaseLock();
  }
}

/** Header pairs without `content-length`. */
function withoutLength(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].toLowerCase() !== "content-length") out.push(headers[i], headers[i + 1]);
  }
  return out;
}
