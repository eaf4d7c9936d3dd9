/**
 * The public listener's HTTP/1.1 server, on `Deno.listen`.
 *
 * `Deno.serve` builds a `Request` and a `Response` per request, with their header maps and body
 * streams, which a proxy does not need: it reads a head, forwards it and streams bytes back. Doing
 * the HTTP/1.1 framing here roughly halves the CPU per proxied request (docs/performance.md), and
 * adds what `Deno.serve` lacks for a public listener: header and idle timeouts, and limits on the
 * head's size and field count. The admin listener stays on `Deno.serve`.
 *
 * @example
 * ```ts
 * import { serveHttp1 } from "./server.ts";
 * const server = serveHttp1({ hostname: "127.0.0.1", port: 0 }, (req) => ({
 *   status: 200,
 *   headers: ["content-type", "text/plain"],
 *   body: `you asked for ${req.target}\n`,
 * }));
 * await server.shutdown();
 * ```
 *
 * @module
 */

import { Deadlines } from "../base/mod.ts";
import { ClientConn, type HeadLimits } from "./client_conn.ts";
import { Exchange, type ServerRequest } from "./exchange.ts";
import type { Rejection } from "./request_head.ts";
import { type ServerResponse, textResponse, type WriteOutcome, writeResponse } from "./response_writer.ts";
import { ProtocolError, STATUS_TEXT, tunnel } from "../http1/mod.ts";

export type { ServerRequest, ServerResponse };

/** Answers one request. */
export type Http1Handler = (req: ServerRequest) => ServerResponse | Promise<ServerResponse>;

/** Options for {@linkcode serveHttp1}. */
export interface Http1ServerOptions {
  readonly hostname: string;
  readonly port: number;
  /** Time for a request head to arrive in full, from its first byte (or the connection's start). @default 10 s */
  readonly headerTimeoutMs?: () => number;
  /** Time a keep-alive connection may wait for its next request. @default 60 s */
  readonly idleTimeoutMs?: () => number;
  /** Time a tunnel (after a 101) may carry no bytes either way before it is closed. @default 1 h */
  readonly tunnelIdleMs?: () => number;
  /** Largest request head (request line and fields); larger gets 431. @default 64 KiB */
  readonly maxHeadBytes?: number;
  /** Most header fields in a request; more gets 431. @default 100 */
  readonly maxHeaders?: number;
  /** The response when the handler throws. @default a plain 500 */
  readonly onError?: (error: unknown) => ServerResponse;
  /** Monotonic clock in ms. @default performance.now */
  readonly now?: () => number;
}

/** A running server. */
export interface Http1Server {
  readonly addr: Deno.NetAddr;
  /** Stop accepting, close idle connections, finish the responses in progress, then resolve. */
  shutdown(): Promise<void>;
  /** Close every connection now. */
  close(): void;
}

const INTERNAL_ERROR = textResponse(500, "Internal Server Error");

/** Listen on `hostname:port` and answer each request with `handler`. */
export function serveHttp1(options: Http1ServerOptions, handler: Http1Handler): Http1Server {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  const now = options.now ?? (() => performance.now());
  const limits: HeadLimits = {
    maxHeadBytes: options.maxHeadBytes ?? 64 * 1024,
    maxHeaders: options.maxHeaders ?? 100,
    headerTimeoutMs: options.headerTimeoutMs ?? (() => 10_000),
    idleTimeoutMs: options.idleTimeoutMs ?? (() => 60_000),
    tunnelIdleMs: options.tunnelIdleMs ?? (() => 3_600_000),
    deadlines: new Deadlines(now),
    now,
  };
  const onError = options.onError ?? (() => INTERNAL_ERROR);
  const conns = new Set<ClientConn>();
  let stopping = false;
  let drained: () => void = () => {};
  const allClosed = new Promise<void>((resolve) => drained = resolve);
  const forget = (c: ClientConn) => {
    conns.delete(c);
    if (stopping && conns.size === 0) drained();
  };
  const date = httpDate();

  const serve = async (c: ClientConn, remoteAddr: Deno.NetAddr) => {
    try {
      for (let fresh = true; !c.closed && !stopping; fresh = false) {
        const head = await c.readHead(limits, fresh);
        if (head === null) break;
        if (!("method" in head)) {
          await reject(c, head, date()).catch(() => {});
          break;
        }
        const ex = new Exchange(c, head, remoteAddr);
        c.active = true;
        let res: ServerResponse;
        try {
          res = await handler(ex);
        } catch (error) {
          // A handler that lets the body's framing error through: the client's fault, not ours.
          res = error instanceof ProtocolError
            ? textResponse(400, `Bad Request: ${error.message}`)
            : onError(error);
        }
        let written: WriteOutcome;
        try {
          const ctx = {
            method: ex.method,
            version: ex.version,
            keepAlive: !head.close && !stopping,
            date: date(),
          };
          written = await writeResponse(c, ctx, res);
        } catch {
          written = "failed";
        }
        // A tunnel whose 101 never reached the client: its backend side ends here.
        if (written !== "switched" && res.tunnel) {
          res.tunnel.closed({ outcome: "reset", bytesUp: 0, bytesDown: 0 });
        }
        ex.done = true;
        if (written === "switched" && res.tunnel) {
          // The connection is a tunnel now; it stays active (shutdown waits for it up to its timeout).
          const result = await tunnel(c, res.tunnel.conn, {
            idleMs: limits.tunnelIdleMs(),
            deadlines: limits.deadlines,
            now,
          });
          res.tunnel.closed(result);
          break;
        }
        c.active = false;
        if (written === "failed") ex.abort();
        if (written !== "keep-alive" || c.closed) break;
        if (!(await ex.finishBody())) break;
      }
    } finally {
      c.close();
      forget(c);
    }
  };

  (async () => {
    try {
      for await (const conn of listener) {
        if (stopping) {
          conn.close();
          continue;
        }
        conn.setNoDelay(true);
        const c = new ClientConn(conn, limits.maxHeadBytes);
        conns.add(c);
        void serve(c, conn.remoteAddr);
      }
    } catch {
      // The listener was closed.
    }
  })();

  const stopAccepting = () => {
    if (stopping) return;
    stopping = true;
    try {
      listener.close();
    } catch { /* already closed */ }
  };
  return {
    addr: listener.addr,
    shutdown() {
      stopAccepting();
      // Idle connections (waiting for a head) close now; busy ones after their response.
      for (const c of conns) if (!c.active) c.close();
      if (conns.size === 0) drained();
      return allClosed.then(() => limits.deadlines.clear());
    },
    close() {
      stopAccepting();
      for (const c of conns) c.close();
      if (conns.size === 0) drained();
      limits.deadlines.clear();
    },
  };
}

/** Write a rejection; the connection closes after it. */
function reject(c: ClientConn, r: Rejection, date: string): Promise<WriteOutcome> {
  const res = textResponse(r.status, `${STATUS_TEXT[r.status]}: ${r.reason}`);
  return writeResponse(c, { method: "GET", version: "HTTP/1.1", keepAlive: false, date }, res);
}

/** The IMF-fixdate for the current second, formatted once per second (RFC 9110 section 5.6.7). */
function httpDate(): () => string {
  let second = -1;
  let text = "";
  return () => {
    const now = Date.now();
    const s = Math.floor(now / 1000);
    if (s !== second) {
      second = s;
      text = new Date(now).toUTCString();
    }
    return text;
  };
}
