/**
 * The HTTP/1.1 client that talks to backends: pooled keep-alive connections on `Deno.connect`,
 * with TLS started on them by `Deno.startTls` for `https://` origins.
 *
 * It must not do what a browser-style `fetch` does: no redirect following, no transparent
 * decompression, no added headers, and the client's `Host` preserved. Writing the request and
 * reading the response ourselves gives exactly that, and skips the stream adapters that cost a
 * general-purpose client most of its time on small responses.
 *
 * @module
 */

import { type BodyOutcome, bodyStream, type BufferedConn, encodeChunk, LAST_CHUNK } from "../http1/mod.ts";
import { putRequestHead } from "./request_head.ts";
import { declaredLength, framingOf, type ResponseHead } from "./response_head.ts";
import { ConnectionClosed, ProtocolError, UpstreamConn } from "./conn.ts";
import { Deadlines } from "../base/mod.ts";

/**
 * How a secure origin's certificate is checked (`backends[].tls`). Read only when the origin is
 * `secure`.
 */
export interface OriginTls {
  /**
   * PEM CA certificates trusted for this origin, in addition to the runtime's default roots (as
   * `Deno.startTls` takes them). @default the default roots only
   */
  readonly caCerts?: readonly string[];
  /**
   * Name sent as SNI and verified against the certificate, when it differs from the address
   * dialled. @default the origin's `hostname` (an IP address gets no SNI and is verified as one)
   */
  readonly serverName?: string;
}

/**
 * Where a backend listens: what the client dials. The pool's backends are origins; idle
 * connections are kept per origin object, so an origin with other TLS settings is another
 * object and never gets a connection made under the old ones.
 */
export interface Origin {
  readonly hostname: string;
  readonly port: number;
  /** Dial TLS (`https://` backends). */
  readonly secure: boolean;
  /** Certificate checks for a secure origin. @default the default roots, verified as `hostname` */
  readonly tls?: OriginTls;
}

/** Options for {@linkcode UpstreamClient}. */
export interface UpstreamClientOptions {
  /** Monotonic clock in ms; deadlines and idle times are measured with it. @default performance.now */
  readonly now?: () => number;
}

/** How a request to a backend failed before its response headers arrived. */
export type FailureKind = "connect" | "timeout" | "reset" | "cancelled";

/** A request ready for the backend: hop-by-hop headers already removed. */
export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target (`/path?query`), byte-for-byte as the client sent it. */
  readonly target: string;
  /** Flat `[name, value, ...]`; framing (`content-length`, chunked) is the client's business. */
  readonly headers: readonly string[];
  /** A stream is sent as it arrives; bytes (a buffered body that may be replayed) in one write. */
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null;
  /**
   * Aborts the request until its response headers arrive (client gone). Read only for requests
   * that wait a while: pass a getter when creating the signal has a cost (the public listener
   * creates a request's signal on its first read).
   */
  readonly signal: AbortSignal;
  /**
   * The request asks to switch protocols (`Connection: upgrade` with `Upgrade`): a 101 answer
   * hands the connection over as {@linkcode UpstreamResponse.upgraded} instead of failing.
   */
  readonly upgrade?: boolean;
}

/** A backend connection that switched protocols: the bytes after the 101 are the tunnel's. */
export interface UpstreamTunnel {
  /** The connection, with any bytes the backend sent after its 101 still buffered. */
  readonly conn: BufferedConn;
  /** The tunnel is over: close the connection and end the exchange's accounting (`onEnd`). */
  end(outcome: BodyOutcome): void;
}

export type { BodyOutcome };

/** Response headers arrived; the body streams and reports its end through `onEnd`. */
export interface UpstreamResponse {
  readonly ok: true;
  readonly status: number;
  /** Raw header pairs in order, repeats kept (several `Set-Cookie`). */
  readonly headers: readonly string[];
  /**
   * Null when the response has no body (HEAD, 204, 304). Bytes when the whole body arrived with
   * the head: a small response then skips the stream plumbing on both sides, which costs more
   * than the rest of the exchange.
   */
  readonly body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null;
  /**
   * The length the response declares, from its parsed head: the body's for a length-delimited
   * body, the representation's for HEAD and 304; undefined for chunked and close-delimited
   * bodies. The client's response is framed by this, never by re-reading a header string.
   */
  readonly length: number | undefined;
  /** For a 101 to an upgrade request: the connection that now carries the new protocol. */
  readonly upgraded?: UpstreamTunnel;
}

/** The request failed before response headers. */
export interface UpstreamFailure {
  readonly ok: false;
  readonly kind: FailureKind;
  readonly message: string;
  /**
   * What the client's error page says, when the kind alone says too little: a failed TLS
   * handshake (`upstream tls handshake with ... failed: ...`), a misconfiguration the client
   * cannot fix by retrying and an operator reading the 502 needs to see.
   */
  readonly reason?: string;
}

/** Timeouts applied per attempt. */
export interface UpstreamTimeouts {
  /** TCP (and TLS) connect. */
  readonly connectMs: number;
  /** Until response headers. */
  readonly requestMs: number;
}

/**
 * How long a request waits for response headers before the client's signal is watched. A client
 * that leaves earlier is noticed this much later; the backend request is still aborted.
 */
const WATCH_CLIENT_AFTER_MS = 20;

/** A pooled connection idle this long gets a read that notices its backend closing it. */
const PARK_AFTER_MS = 1_000;

/** Idle connections kept per backend; more than this many idle at once are closed. */
const MAX_IDLE_PER_BACKEND = 256;

/** Pooled keep-alive client to backends. */
export class UpstreamClient {
  #idle = new Map<Origin, UpstreamConn[]>();
  readonly #now: () => number;
  /** When to start watching the client's signal, then the response header deadline. */
  readonly #deadlines: Deadlines;
  #closed = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(options: UpstreamClientOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#deadlines = new Deadlines(this.#now);
  }

  /**
   * Dial, and for a secure origin finish the TLS handshake, within `timeouts.connectMs`. TLS is
   * started on the TCP connection (`Deno.startTls`) rather than dialled with `Deno.connectTls`
   * so that the name verified and sent as SNI can differ from the address (`tls.server_name`),
   * and so TLS connections get `TCP_NODELAY` too. The handshake is awaited here: a certificate
   * problem is then a connect failure that names itself, not a reset on the first read.
   */
  async #connect(backend: Origin, timeouts: UpstreamTimeouts, signal: AbortSignal): Promise<UpstreamConn> {
    const limit = AbortSignal.any([signal, AbortSignal.timeout(timeouts.connectMs)]);
    const tcp = await Deno.connect({ hostname: backend.hostname, port: backend.port, signal: limit });
    tcp.setNoDelay(true);
    if (!backend.secure) return new UpstreamConn(tcp);
    const tls = backend.tls;
    let conn: Deno.TlsConn;
    try {
      conn = await Deno.startTls(tcp, {
        hostname: tls?.serverName ?? backend.hostname,
        caCerts: tls?.caCerts ? [...tls.caCerts] : undefined,
      });
    } catch (e) {
      tcp.close();
      throw new TlsHandshakeError(e as Error);
    }
    // Closing the connection is the only way to stop a handshake the peer never answers.
    const stop = () => conn.close();
    if (limit.aborted) stop();
    else limit.addEventListener("abort", stop, { once: true });
    try {
      await conn.handshake();
    } catch (e) {
      // Aborted: stop() closed it, and the limit's reason (a timeout, the client) is the cause.
      if (!limit.aborted) conn.close();
      throw new TlsHandshakeError(limit.aborted ? limit.reason as Error : e as Error);
    } finally {
      limit.removeEventListener("abort", stop);
    }
    return new UpstreamConn(conn);
  }

  #take(backend: Origin): UpstreamConn | undefined {
    const idle = this.#idle.get(backend);
    while (idle?.length) {
      const c = idle.pop()!;
      if (!c.closed) {
        c.unpark();
        return c;
      }
    }
    return undefined;
  }

  #put(backend: Origin, c: UpstreamConn): void {
    let idle = this.#idle.get(backend);
    if (!idle) this.#idle.set(backend, idle = []);
    if (this.#closed || idle.length >= MAX_IDLE_PER_BACKEND) return c.close();
    c.idle(this.#now());
    idle.push(c);
    this.#sweeper ??= setInterval(() => this.#watchIdle(), PARK_AFTER_MS);
  }

  /** Watch connections idle for a while for a close by their backend (see lib/upstream/conn.ts). */
  #watchIdle(): void {
    const since = this.#now() - PARK_AFTER_MS;
    let any = false;
    for (const idle of this.#idle.values()) {
      for (const c of idle) {
        any = true;
        if (c.parked || c.idleSince > since) continue;
        c.park(() => {
          const i = idle.indexOf(c);
          if (i !== -1) idle.splice(i, 1);
        });
      }
    }
    if (!any) this.#stopSweeper();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /**
   * Send a request; resolves with the response headers or a failure, never rejects.
   *
   * For a response, `onEnd` is called exactly once when its body ends; for a failure it is not
   * called (the failure itself is the end).
   */
  async send(
    backend: Origin,
    r: UpstreamRequest,
    timeouts: UpstreamTimeouts,
    onEnd: (outcome: BodyOutcome) => void,
  ): Promise<UpstreamResponse | UpstreamFailure> {
    const started = this.#now();
    // A request without a body (or with a buffered one) can be replayed safely when a reused
    // connection turns out to have been closed by the backend before it answered (as Go's
    // Transport does).
    for (let attempt = 0;; attempt++) {
      const result = await this.#attempt(backend, r, timeouts, started, onEnd);
      if (result === "stale" && attempt === 0 && !(r.body instanceof ReadableStream)) continue;
      if (result === "stale") {
        return { ok: false, kind: "reset", message: "connection closed before responding" };
      }
      return result;
    }
  }

  async #attempt(
    backend: Origin,
    r: UpstreamRequest,
    timeouts: UpstreamTimeouts,
    started: number,
    onEnd: (outcome: BodyOutcome) => void,
  ): Promise<UpstreamResponse | UpstreamFailure | "stale"> {
    let c = this.#take(backend);
    if (!c) {
      if (r.signal.aborted) return { ok: false, kind: "cancelled", message: "client went away" };
      try {
        c = await this.#connect(backend, timeouts, r.signal);
      } catch (e) {
        if (r.signal.aborted) return { ok: false, kind: "cancelled", message: "client went away" };
        const message = connectFailure(e as Error, backend, timeouts.connectMs);
        // Nothing was sent, so a handshake failure is a connect failure (retried like one).
        return e instanceof TlsHandshakeError
          ? { ok: false, kind: "connect", message, reason: `upstream ${message}` }
          : { ok: false, kind: "connect", message };
      }
    }
    const conn = c;
    // Whoever ends the exchange early records why, then closes the socket to wake pending I/O.
    let failure: UpstreamFailure | undefined;
    const stop = (kind: FailureKind, message: string) => {
      failure ??= { ok: false, kind, message };
      conn.close();
    };
    // One deadline serves both waits: first, when to start watching the client (reading its
    // signal has a cost, and most responses arrive long before a client gives up), then, from
    // the same entry, the response timeout.
    let watching = false;
    const onAbort = () => stop("cancelled", "client went away");
    const deadline = {
      deadline: started + Math.min(WATCH_CLIENT_AFTER_MS, timeouts.requestMs),
      expire: () => {
        if (!watching) {
          watching = true;
          if (r.signal.aborted) return onAbort();
          r.signal.addEventListener("abort", onAbort, { once: true });
          if (timeouts.requestMs > WATCH_CLIENT_AFTER_MS) {
            deadline.deadline = started + timeouts.requestMs;
            return this.#deadlines.add(deadline);
          }
        }
        stop("timeout", `no response within ${timeouts.requestMs}ms`);
      },
    };
    this.#deadlines.add(deadline);
    const done = () => {
      this.#deadlines.delete(deadline);
      if (watching) r.signal.removeEventListener("abort", onAbort);
    };

    // Reuse needs the request fully written on a connection still open.
    let writeDone = false;
    const writing = this.#write(conn, r).then(() => {
      writeDone = !conn.closed;
    }, (e) => {
      if (r.signal.aborted || (e as Error).name === "ClientBodyError") {
        stop("cancelled", "client request body aborted");
      } else conn.close();
    });
    let head: ResponseHead;
    try {
      do head = await conn.readHead(); while (head.status >= 100 && head.status < 200 && head.status !== 101);
    } catch (e) {
      done();
      conn.close();
      await writing;
      if (failure) return failure;
      if (e instanceof ConnectionClosed && !e.reset && conn.reused) return "stale";
      if (e instanceof ProtocolError) {
        return { ok: false, kind: "reset", message: `bad response: ${e.message}` };
      }
      return { ok: false, kind: "reset", message: (e as Error).message };
    }
    done();
    if (head.status === 101) {
      if (!r.upgrade) {
        conn.close();
        return { ok: false, kind: "reset", message: "unexpected 101 Switching Protocols" };
      }
      // The connection is the tunnel's now: never pooled again, ended when the tunnel ends.
      await writing;
      const upgraded: UpstreamTunnel = {
        conn,
        end: (outcome) => {
          conn.close();
          onEnd(outcome);
        },
      };
      return { ok: true, status: 101, headers: head.headers, body: null, length: undefined, upgraded };
    }
    const framing = framingOf(r.method, head);
    const length = declaredLength(framing, head);
    const finish = (outcome: BodyOutcome) => {
      // Reuse only a connection whose request was fully written and whose response was fully read.
      if (
        outcome === "complete" && !head.close && framing.kind !== "close" && writeDone && conn.buffered === 0
      ) {
        this.#put(backend, conn);
      } else {
        conn.close();
      }
      onEnd(outcome);
    };
    if (framing.kind === "none" || (framing.kind === "length" && framing.length <= conn.buffered)) {
      // Without a request body the write is over already; with one still streaming, the
      // connection cannot be reused and finish() closes it.
      if (!(r.body instanceof ReadableStream)) await writing;
      const body = framing.kind === "none" ? null : conn.take(framing.length);
      finish("complete");
      return { ok: true, status: head.status, headers: head.headers, body, length };
    }
    const body = bodyStream(conn, framing, finish);
    return { ok: true, status: head.status, headers: head.headers, body, length };
  }

  async #write(conn: UpstreamConn, r: UpstreamRequest): Promise<void> {
    const headers = r.headers;
    let length: string | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i].length === 14 && headers[i].toLowerCase() === "content-length") length = headers[i + 1];
    }
    const body = r.body;
    if (body instanceof Uint8Array) {
      // A buffered body is sent whole, with its own length (the client may have sent it chunked).
      const own = String(body.length);
      if (length === own) putRequestHead(conn, r.method, r.target, headers);
      else putRequestHead(conn, r.method, r.target, withoutLength(headers), `content-length: ${own}\r\n`);
      return await conn.sendHead(body);
    }
    const hasLength = length !== undefined;
    const extra = body !== null && !hasLength ? "transfer-encoding: chunked\r\n" : "";
    putRequestHead(conn, r.method, r.target, headers, extra);
    await conn.sendHead();
    if (body === null) return;
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

  /** Close the pooled connections to one origin (a backend that left the pool). */
  forget(origin: Origin): void {
    for (const c of this.#idle.get(origin) ?? []) c.close();
    this.#idle.delete(origin);
  }

  /** Close every pooled connection. */
  close(): void {
    this.#closed = true;
    this.#stopSweeper();
    this.#deadlines.clear();
    for (const idle of this.#idle.values()) for (const c of idle) c.close();
    this.#idle.clear();
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

/** A TLS handshake with a backend failed; `failure` is the runtime's error. */
class TlsHandshakeError extends Error {
  constructor(readonly failure: Error) {
    super(failure.message);
    this.name = "TlsHandshakeError";
  }
}

/**
 * What the runtime's (rustls') terse handshake errors mean for whoever configures
 * `backends[].tls`; its own text is kept in front of each. Errors that explain themselves
 * (`certificate not valid for name ...`, `certificate expired: ...`) get no hint.
 */
const TLS_HINTS: readonly (readonly [RegExp, string])[] = [
  [/UnknownIssuer/, "not issued by a trusted CA: set tls.ca to the CA that signed it"],
  [/CaUsedAsEndEntity/, "the backend presents a CA certificate as its own: give it one the CA issued"],
  [/InvalidContentType|corrupt message/, "is it a TLS server? (an http:// backend behind an https:// URL)"],
];

/**
 * What failed and where, as a connect error is usually written (`connect ECONNREFUSED
 * 127.0.0.1:9001`): the error code when the runtime gives one, else its message. A failed TLS
 * handshake says so, with the name it verified when that is not the address
 * (`tls handshake with 127.0.0.1:9443 (server_name backend.test) failed: ...`).
 *
 * @param e what `Deno.connect` or the handshake threw
 * @param origin the origin dialled
 * @param connectMs the connect limit, for a timeout's message
 * @returns one line, without a trailing period
 * @example Connection refused
 * ```ts
 * import { connectFailure } from "./client.ts";
 * const e = Object.assign(new Error("Connection refused"), { code: "ECONNREFUSED" });
 * connectFailure(e, { hostname: "127.0.0.1", port: 9001, secure: false }, 5000);
 * // "connect ECONNREFUSED 127.0.0.1:9001"
 * ```
 */
export function connectFailure(e: Error, origin: Origin, connectMs: number): string {
  const host = origin.hostname.includes(":") ? `[${origin.hostname}]` : origin.hostname;
  const where = `${host}:${origin.port}`;
  if (e instanceof TlsHandshakeError) {
    const name = origin.tls?.serverName;
    const what = `tls handshake with ${where}${name ? ` (server_name ${name})` : ""}`;
    const cause = e.failure;
    if (cause.name === "TimeoutError") return `${what} timed out (no handshake within ${connectMs}ms)`;
    const hint = TLS_HINTS.find(([pattern]) => pattern.test(cause.message))?.[1];
    return `${what} failed: ${cause.message}${hint ? ` (${hint})` : ""}`;
  }
  if (e.name === "TimeoutError") return `connect ETIMEDOUT ${where} (no answer within ${connectMs}ms)`;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && code !== ""
    ? `connect ${code} ${where}`
    : `connect ${where}: ${e.message}`;
}
