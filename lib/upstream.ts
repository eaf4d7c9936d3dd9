/**
 * The HTTP/1.1 client that talks to backends: pooled keep-alive connections on `Deno.connect`.
 *
 * It must not do what a browser-style `fetch` does: no redirect following, no transparent
 * decompression, no added headers, and the client's `Host` preserved. Writing the request and
 * reading the response ourselves gives exactly that, and skips the stream adapters that cost a
 * general-purpose client most of its time on small responses.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { encodeChunk, framingOf, LAST_CHUNK, requestHead, type ResponseHead } from "./http1.ts";
import { ConnectionClosed, ProtocolError, UpstreamConn } from "./upstream_conn.ts";
import { type BodyOutcome, bodyStream } from "./body_stream.ts";
import { Deadlines } from "./deadlines.ts";

/** How a request to a backend failed before its response headers arrived. */
export type FailureKind = "connect" | "timeout" | "reset" | "cancelled";

/** A request ready for the backend: hop-by-hop headers already removed. */
export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target (`/path?query`), byte-for-byte as the client sent it. */
  readonly target: string;
  readonly headers: Record<string, string>;
  /** A stream is sent as it arrives; bytes (a buffered body that may be replayed) in one write. */
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null;
  /**
   * Aborts the request until its response headers arrive (client gone). Read only for requests
   * that wait a while: pass a getter when creating the signal has a cost (`Request.signal` in
   * Deno.serve arms a per-request cancel watcher on first read).
   */
  readonly signal: AbortSignal;
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
}

/** The request failed before response headers. */
export interface UpstreamFailure {
  readonly ok: false;
  readonly kind: FailureKind;
  readonly message: string;
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

/** Idle connections kept per backend; more than this many idle at once are closed. */
const MAX_IDLE_PER_BACKEND = 256;

/** Pooled keep-alive client to backends. */
export class UpstreamClient {
  #idle = new Map<string, UpstreamConn[]>();
  /** Response header deadlines. */
  #timeouts = new Deadlines();
  /** When to start watching the client's signal. */
  #watches = new Deadlines();
  #closed = false;

  async #connect(backend: Backend, timeouts: UpstreamTimeouts, signal: AbortSignal): Promise<UpstreamConn> {
    const limit = AbortSignal.any([signal, AbortSignal.timeout(timeouts.connectMs)]);
    const opts = { hostname: backend.hostname, port: backend.port, signal: limit };
    const conn = backend.secure ? await Deno.connectTls(opts) : await Deno.connect(opts);
    if (!backend.secure) (conn as Deno.TcpConn).setNoDelay(true);
    return new UpstreamConn(conn);
  }

  #take(backend: Backend): UpstreamConn | undefined {
    const idle = this.#idle.get(backend.url);
    while (idle?.length) {
      const c = idle.pop()!;
      if (!c.closed) {
        c.unpark();
        return c;
      }
    }
    return undefined;
  }

  #put(backend: Backend, c: UpstreamConn): void {
    let idle = this.#idle.get(backend.url);
    if (!idle) this.#idle.set(backend.url, idle = []);
    if (this.#closed || idle.length >= MAX_IDLE_PER_BACKEND) return c.close();
    idle.push(c);
    c.park(() => {
      const i = idle.indexOf(c);
      if (i !== -1) idle.splice(i, 1);
    });
  }

  /**
   * Send a request; resolves with the response headers or a failure, never rejects.
   *
   * For a response, `onEnd` is called exactly once when its body ends; for a failure it is not
   * called (the failure itself is the end).
   */
  async send(
    backend: Backend,
    r: UpstreamRequest,
    timeouts: UpstreamTimeouts,
    onEnd: (outcome: BodyOutcome) => void,
  ): Promise<UpstreamResponse | UpstreamFailure> {
    const started = performance.now();
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
    backend: Backend,
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
        const timedOut = (e as Error).name === "TimeoutError";
        return {
          ok: false,
          kind: "connect",
          message: timedOut ? `connect timeout after ${timeouts.connectMs}ms` : (e as Error).message,
        };
      }
    }
    const conn = c;
    // Whoever ends the exchange early records why, then closes the socket to wake pending I/O.
    let failure: UpstreamFailure | undefined;
    const stop = (kind: FailureKind, message: string) => {
      failure ??= { ok: false, kind, message };
      conn.close();
    };
    const timeout = {
      deadline: started + timeouts.requestMs,
      expire: () => stop("timeout", `no response within ${timeouts.requestMs}ms`),
    };
    this.#timeouts.add(timeout);
    // Reading the client's signal is costly (Deno.serve arms a cancel watcher for it), and most
    // responses arrive long before a client gives up: only requests still waiting get watched.
    let watching = false;
    const onAbort = () => stop("cancelled", "client went away");
    const watch = {
      deadline: started + WATCH_CLIENT_AFTER_MS,
      expire: () => {
        watching = true;
        if (r.signal.aborted) onAbort();
        else r.signal.addEventListener("abort", onAbort, { once: true });
      },
    };
    this.#watches.add(watch);
    const done = () => {
      this.#timeouts.delete(timeout);
      this.#watches.delete(watch);
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
      conn.close();
      return { ok: false, kind: "reset", message: "unexpected 101 Switching Protocols" };
    }
    const framing = framingOf(r.method, head);
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
      return { ok: true, status: head.status, headers: head.headers, body };
    }
    return { ok: true, status: head.status, headers: head.headers, body: bodyStream(conn, framing, finish) };
  }

  async #write(conn: UpstreamConn, r: UpstreamRequest): Promise<void> {
    const headers = r.headers;
    if (r.body instanceof Uint8Array) {
      // A buffered body is sent whole, with its own length (the client may have sent it chunked).
      const head = requestHead(r.method, r.target, { ...headers, "content-length": String(r.body.length) });
      await conn.writeLatin1(head);
      if (r.body.length > 0) await conn.writeAll(r.body);
      return;
    }
    const hasLength = headers["content-length"] !== undefined;
    if (r.body !== null && !hasLength) headers["transfer-encoding"] = "chunked";
    await conn.writeLatin1(requestHead(r.method, r.target, headers));
    if (r.body === null) return;
    const reader = r.body.getReader();
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
  forget(url: string): void {
    for (const c of this.#idle.get(url) ?? []) c.close();
    this.#idle.delete(url);
  }

  /** Close every pooled connection. */
  close(): void {
    this.#closed = true;
    this.#timeouts.clear();
    this.#watches.clear();
    for (const idle of this.#idle.values()) for (const c of idle) c.close();
    this.#idle.clear();
  }
}
