/**
 * Serving HTTP/1.1 on accepted connections: the request loop of the public listener, whatever
 * accepted the connection (the plain listener in lib/listener/server.ts, or the TLS listener
 * after a handshake that chose http/1.1).
 *
 * `Deno.serve` builds a `Request` and a `Response` per request, with their header maps and body
 * streams, which a proxy does not need: it reads a head, forwards it and streams bytes back. Doing
 * the HTTP/1.1 framing here roughly halves the CPU per proxied request (docs/performance.md), and
 * adds what `Deno.serve` lacks for a public listener: header and idle timeouts, and limits on the
 * head's size and field count.
 *
 * @module
 */

import { Deadlines } from "../base/mod.ts";
import { ClientConn, type HeadLimits } from "./client_conn.ts";
import { Exchange, type ServerRequest } from "./exchange.ts";
import type { Rejection } from "./request_head.ts";
import {
  type ServerResponse,
  type ServerTunnel,
  textResponse,
  type WriteOutcome,
  writeResponse,
} from "./response_writer.ts";
import { ProtocolError, STATUS_TEXT, tunnel } from "../http1/mod.ts";

/** Answers one request. */
export type Http1Handler = (req: ServerRequest) => ServerResponse | Promise<ServerResponse>;

/** Limits, timeouts and the error answer of {@linkcode createConnections}. */
export interface ConnectionOptions {
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
  /**
   * Told of each request refused before it reached the handler (a malformed or too large head,
   * or one that took too long: 400, 408, 431, 501, 505), after the refusal was written.
   */
  readonly onReject?: (rejection: Rejection, remoteAddr: Deno.NetAddr, secure: boolean) => void;
}

/** A connection served elsewhere (an HTTP/2 relay) that shutdown must wait for. */
export interface Adopted {
  /** Busy: shutdown lets it finish; idle ones are closed at once. */
  readonly active: boolean;
  close(): void;
}

/** Every connection of a listener, served or adopted. */
export interface Connections {
  /** Serve HTTP/1.1 on `conn` until it ends. `secure`: it came over TLS. */
  serve(conn: Deno.Conn, remoteAddr: Deno.NetAddr, secure: boolean): void;
  /** Count in a connection served elsewhere; call the returned function when it has closed. */
  adopt(conn: Adopted): () => void;
  /** True once shutdown or close began: take no new connection. */
  readonly stopping: boolean;
  /** The deadlines and clock the connections' timers use (shared with relays). */
  readonly limits: HeadLimits;
  /** Close idle connections now, busy ones after their response, then resolve. */
  shutdown(): Promise<void>;
  /** Close every connection now. */
  close(): void;
}

const INTERNAL_ERROR = textResponse(500, "Internal Server Error");

/** The request loop for connections accepted by any listener; see the module documentation. */
export function createConnections(options: ConnectionOptions, handler: Http1Handler): Connections {
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
  const conns = new Set<Adopted>();
  const state = { stopping: false };
  let drained: () => void = () => {};
  const allClosed = new Promise<void>((resolve) => drained = resolve);
  const forget = (c: Adopted) => {
    conns.delete(c);
    if (state.stopping && conns.size === 0) drained();
  };
  const date = httpDate();

  const relay = async (
    c: ClientConn,
    t: ServerTunnel,
    ended: ServerResponse["ended"],
    bytesIn: number,
    bytesOut: number,
  ) => {
    try {
      const result = await tunnel(c, t.conn, {
        idleMs: limits.tunnelIdleMs(),
        deadlines: limits.deadlines,
        now,
      });
      t.closed(result);
      ended?.({ bytesIn: bytesIn + result.bytesUp, bytesOut: bytesOut + result.bytesDown });
    } finally {
      c.close();
      forget(c);
    }
  };

  const run = async (c: ClientConn, remoteAddr: Deno.NetAddr, secure: boolean) => {
    let handedOff = false;
    try {
      for (let fresh = true; !c.closed && !state.stopping; fresh = false) {
        const head = await c.readHead(limits, fresh);
        if (head === null) break;
        if (!("method" in head)) {
          await reject(c, head, date()).catch(() => {});
          options.onReject?.(head, remoteAddr, secure);
          break;
        }
        const ex = new Exchange(c, head, remoteAddr, secure);
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
            keepAlive: !head.close && !state.stopping,
            date: date(),
          };
          written = await writeResponse(c, ctx, res, ex);
        } catch {
          written = "failed";
          ex.bytesOut = 0; // the head or the bytes with it did not go out
        }
        // A tunnel whose 101 never reached the client: its backend side ends here.
        if (written !== "switched" && res.tunnel) {
          res.tunnel.closed({ outcome: "reset", bytesUp: 0, bytesDown: 0 });
        }
        ex.done = true;
        if (written === "switched" && res.tunnel) {
          // The connection is a tunnel now; it stays active (shutdown waits for it up to its
          // timeout). The relay runs on its own, so this frame (the request's and response's
          // objects) is not held for the tunnel's life: only what the relay's end needs.
          handedOff = true;
          void relay(c, res.tunnel, res.ended, ex.bytes, ex.bytesOut);
          return;
        }
        res.ended?.({ bytesIn: ex.bytes, bytesOut: ex.bytesOut });
        c.active = false;
        if (written === "failed") ex.abort();
        if (written !== "keep-alive" || c.closed) break;
        // A body read in full (the common case) needs no await: one promise and tick less per request.
        if (ex.bodyOutcome !== "complete" && !(await ex.finishBody())) break;
      }
    } finally {
      if (!handedOff) {
        c.close();
        forget(c);
      }
    }
  };

  return {
    get stopping() {
      return state.stopping;
    },
    limits,
    serve(conn, remoteAddr, secure) {
      if (state.stopping) return void conn.close();
      const c = new ClientConn(conn, limits.maxHeadBytes);
      conns.add(c);
      void run(c, remoteAddr, secure);
    },
    adopt(c) {
      conns.add(c);
      return () => forget(c);
    },
    shutdown() {
      state.stopping = true;
      // Idle connections (waiting for a head) close now; busy ones after their response.
      for (const c of conns) if (!c.active) c.close();
      if (conns.size === 0) drained();
      return allClosed.then(() => limits.deadlines.clear());
    },
    close() {
      state.stopping = true;
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
