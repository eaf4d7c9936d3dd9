/**
 * A backend on a raw TCP socket: it writes exactly the bytes a test gives it, so tests can send
 * what no well-behaved server library would (a `Content-Length: 5, 5`, a latin-1 byte in a value,
 * a body that arrives after the head), and records every byte the proxy sent it.
 *
 * It frames request bodies itself, by the head's `Content-Length` or `Transfer-Encoding: chunked`
 * (the only framings the proxy writes), with its own small parser, and answers a request only
 * once its body is complete, as a strict server would. So a test sees, per request, whether the
 * backend ever held a whole request it could act on.
 *
 * Health checks (`GET /health`) are answered `200 ok` so the proxy marks it healthy.
 *
 * @module
 */

import { latin1, octets } from "./raw_http.ts";

/** One request as the backend received it. */
export interface RawRequest {
  /** The head without its final CRLF CRLF. */
  readonly head: string;
  /** Index of its connection in {@linkcode RawBackend.received}. */
  readonly conn: number;
  /** The body bytes as received, framing included (chunk lines), as latin-1 text. */
  body: string;
  /** The body's content: `body` without its chunked framing. */
  content: string;
  /** The body ended as the head declared (all Content-Length bytes, or the last chunk and trailers). */
  complete: boolean;
  /** Why the backend gave up on the body's framing, if it did (the connection is then closed). */
  error?: string;
}

/** A started raw backend. */
export interface RawBackend {
  readonly port: number;
  readonly url: string;
  /** Request heads received (health checks excluded), each without its final CRLF CRLF. */
  readonly heads: string[];
  /** The requests received (health checks excluded), in arrival order, complete or not. */
  readonly requests: RawRequest[];
  /** Every byte received on each connection, health-check connections included, as latin-1 text. */
  readonly received: string[];
  close(): Promise<void>;
}

/**
 * Writes a reply for one request, called once its body is complete; may write in several steps,
 * or close the connection.
 */
export type RawReply = (head: string, conn: Deno.Conn) => Promise<void> | void;

const HEALTHY = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/** How a head frames its body: a length (0 for none) or chunked. */
function framingOf(head: string): number | "chunked" {
  let length = 0;
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "transfer-encoding" && value.toLowerCase() === "chunked") return "chunked";
    if (name === "content-length") length = Number(value);
  }
  return length;
}

/**
 * Parse a chunked body from the start of `s`.
 *
 * @returns the content of the whole chunks so far, and once the body is complete its length
 * @throws {Error} when the framing is broken
 */
function parseChunked(s: string): { used?: number; content: string } {
  let at = 0;
  let content = "";
  while (true) {
    const lineEnd = s.indexOf("\r\n", at);
    if (lineEnd === -1) return { content };
    const line = s.slice(at, lineEnd);
    if (!/^[0-9a-fA-F]{1,8}$/.test(line)) throw new Error(`bad chunk size line ${JSON.stringify(line)}`);
    const size = parseInt(line, 16);
    if (size === 0) {
      at = lineEnd + 2;
      break;
    }
    if (s.length < lineEnd + 2 + size + 2) return { content };
    if (s.slice(lineEnd + 2 + size, lineEnd + 4 + size) !== "\r\n") {
      throw new Error("chunk data not followed by CRLF");
    }
    content += s.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 4 + size;
  }
  while (true) { // trailers, up to an empty line
    const lineEnd = s.indexOf("\r\n", at);
    if (lineEnd === -1) return { content };
    const empty = lineEnd === at;
    at = lineEnd + 2;
    if (empty) return { used: at, content };
  }
}

/** Start a raw backend on 127.0.0.1 that answers each complete request with `reply`. */
export function startRawBackend(reply: RawReply): RawBackend {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const heads: string[] = [];
  const requests: RawRequest[] = [];
  const received: string[] = [];
  const open = new Set<Deno.Conn>();
  const serve = async (conn: Deno.Conn) => {
    open.add(conn);
    const index = received.push("") - 1;
    const buf = new Uint8Array(65536);
    let pending = "";
    /** The request whose body is being read, with what its head declared. */
    let current: { request: RawRequest; framing: number | "chunked" } | undefined;
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        const text = latin1(buf.subarray(0, n));
        received[index] += text;
        pending += text;
        while (true) {
          if (!current) {
            const end = pending.indexOf("\r\n\r\n");
            if (end === -1) break;
            const head = pending.slice(0, end);
            pending = pending.slice(end + 4);
            if (head.startsWith("GET /health ")) {
              await conn.write(octets(HEALTHY));
              continue;
            }
            heads.push(head);
            const request: RawRequest = { head, conn: index, body: "", content: "", complete: false };
            requests.push(request);
            current = { request, framing: framingOf(head) };
          }
          const { request, framing } = current;
          if (framing === "chunked") {
            let parsed;
            try {
              parsed = parseChunked(pending);
            } catch (e) {
              request.body = pending;
              request.error = (e as Error).message;
              throw e;
            }
            request.content = parsed.content;
            if (parsed.used === undefined) {
              request.body = pending;
              break;
            }
            request.body = pending.slice(0, parsed.used);
            pending = pending.slice(parsed.used);
          } else {
            const take = Math.min(framing - request.body.length, pending.length);
            request.body += pending.slice(0, take);
            request.content = request.body;
            pending = pending.slice(take);
            if (request.body.length < framing) break;
          }
          request.complete = true;
          current = undefined;
          await reply(request.head, conn);
        }
      }
    } catch { /* the proxy or the reply closed it, or the framing broke */ }
    open.delete(conn);
    try {
      conn.close();
    } catch { /* closed already */ }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) void serve(conn);
    } catch { /* closed */ }
  })();
  const port = listener.addr.port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    heads,
    requests,
    received,
    close: async () => {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await accepting;
    },
  };
}
