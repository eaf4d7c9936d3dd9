/**
 * The demo backend's `/echo`, `/bytes` and `/ws` endpoints.
 *
 * @module
 */

import { json } from "../shared/mod.ts";

/** Largest request body `/echo` reads back, in bytes. */
export const MAX_ECHO_BYTES = 1 << 20;

/** Largest `n` accepted by `/bytes`, in bytes: big enough to test streaming, small enough to be safe. */
export const MAX_STREAM_BYTES = 64 << 20;

/** Size of each streamed chunk; many chunks show whether a proxy streams or buffers. */
const CHUNK_BYTES = 16 << 10;

/**
 * Answer with the request as JSON: method, path, query, headers and body (text).
 *
 * Repeated query keys become arrays. Bodies over {@linkcode MAX_ECHO_BYTES} get 413.
 */
export async function echo(request: Request, url: URL, backend: string): Promise<Response> {
  const body = await readBounded(request, MAX_ECHO_BYTES);
  if (body === undefined) return json({ error: `body larger than ${MAX_ECHO_BYTES} bytes` }, 413);
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const seen = query[key];
    query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return json({
    backend,
    method: request.method,
    path: url.pathname,
    query,
    headers: Object.fromEntries(request.headers),
    body,
  });
}

/**
 * Stream `n` bytes (query `?n=`) in fixed-size chunks with a Content-Length.
 *
 * Chunks are produced on demand (pull), so memory stays flat however large `n` is and a slow
 * reader applies backpressure. Stops early, erroring the stream, when the backend closes.
 */
export function streamBytes(url: URL, closing: AbortSignal): Response {
  const text = url.searchParams.get("n") ?? "0";
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > MAX_STREAM_BYTES) {
    return json({ error: `n must be an integer in [0, ${MAX_STREAM_BYTES}], got "${text}"` }, 400);
  }
  const chunk = new Uint8Array(CHUNK_BYTES).fill(0x61); // "a"
  let left = n;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (closing.aborted) return controller.error(closing.reason);
      if (left === 0) return controller.close();
      const size = Math.min(left, CHUNK_BYTES);
      controller.enqueue(size === CHUNK_BYTES ? chunk.slice() : chunk.slice(0, size));
      left -= size;
    },
  });
  return new Response(body, {
    headers: { "content-type": "application/octet-stream", "content-length": String(n) },
  });
}

/**
 * Answer a WebSocket upgrade and echo every message back as it came: text as text, binary as
 * binary. The handshake and framing are the runtime's (`Deno.upgradeWebSocket`), and so is the
 * close when the backend stops (`Deno.serve`'s shutdown sends 1001, going away); a request that
 * is not an upgrade gets 426 saying what to send.
 *
 * @param request The request to `/ws`.
 * @returns The 101 response (or the 426).
 */
export function websocketEcho(request: Request): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response(
      JSON.stringify({ error: "expected a WebSocket upgrade: GET with Upgrade: websocket" }),
      { status: 426, headers: { "content-type": "application/json", upgrade: "websocket" } },
    );
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer"; // binary frames arrive as ArrayBuffer, and go back as binary
  socket.onmessage = (event) => socket.send(event.data);
  return response;
}

/** The body as text, or undefined when it exceeds `max` bytes (stops reading there). */
async function readBounded(request: Request, max: number): Promise<string | undefined> {
  if (request.body === null) return "";
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of request.body) {
    size += part.byteLength;
    if (size > max) return undefined;
    parts.push(part);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.byteLength;
  }
  return new TextDecoder().decode(all);
}
