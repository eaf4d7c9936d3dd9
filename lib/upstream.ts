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
import {
  encodeChunk,
  framingOf,
  LAST_CHUNK,
  parseChunkSize,
  requestHead,
  type ResponseHead,
} from "./http1.ts";
import { ConnectionClosed, ProtocolError, UpstreamConn } from "./upstream_conn.ts";

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
  /** Aborts the request until its response headers arrive (client gone). */
  readonly signal: AbortSignal;
}

/** How a response body ended: fully read, broken by the backend, or cancelled by the client. */
export type BodyOutcome = "complete" | "reset" | "cancelled";

/** Response headers arrived; the body streams and reports its end through `onEnd`. */
export interface UpstreamResponse {
  readonly ok: true;
  readonly status: number;
  /** Raw header pairs in order, repeats kept (several `Set-Cookie`). */
  readonly headers: readonly string[];
  /** Null when the response has no body (HEAD, 204, 304). */
  readonly body: ReadableStream<Uint8Array> | null;
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

/** Idle connections kept per backend; more than this many idle at once are closed. */
const MAX_IDLE_PER_BACKEND = 256;

/** Pooled keep-alive client to backends. */
export class UpstreamClient {
  #idle = new Map<string, UpstreamConn[]>();
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
    const deadline = performance.now() + timeouts.requestMs;
    // A request without a body (or with a buffered one) can be replayed safely when a reused
    // connection turns out to have been closed by the backend before it answered (as Go's
    // Transport does).
    for (let attempt = 0;; attempt++) {
      const result = await this.#attempt(backend, r, timeouts, deadline, onEnd);
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
    deadline: number,
    onEnd: (outcome: BodyOutcome) => void,
  ): Promise<UpstreamResponse | UpstreamFailure | "stale"> {
    if (r.signal.aborted) return { ok: false, kind: "cancelled", message: "client went away" };
    let c = this.#take(backend);
    if (!c) {
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
    const timer = setTimeout(
      () => stop("timeout", `no response within ${timeouts.requestMs}ms`),
      Math.max(0, deadline - performance.now()),
    );
    const onAbort = () => stop("cancelled", "client went away");
    r.signal.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      r.signal.removeEventListener("abort", onAbort);
    };

    const writing = this.#write(conn, r).catch((e) => {
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
    let writeDone = false;
    writing.then(() => writeDone = !conn.closed);
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
    if (framing.kind === "none") {
      // Without a request body the write is over already; with one still streaming, the
      // connection cannot be reused and finish() closes it.
      if (!(r.body instanceof ReadableStream)) await writing;
      finish("complete");
      return { ok: true, status: head.status, headers: head.headers, body: null };
    }
    return { ok: true, status: head.status, headers: head.headers, body: bodyStream(conn, framing, finish) };
  }

  async #write(conn: UpstreamConn, r: UpstreamRequest): Promise<void> {
    const headers = r.headers;
    if (r.body instanceof Uint8Array) {
      // A buffered body is sent whole, with its own length (the client may have sent it chunked).
      const head = requestHead(r.method, r.target, { ...headers, "content-length": String(r.body.length) });
      await conn.writeAll(head);
      if (r.body.length > 0) await conn.writeAll(r.body);
      return;
    }
    const hasLength = headers["content-length"] !== undefined;
    if (r.body !== null && !hasLength) headers["transfer-encoding"] = "chunked";
    await conn.writeAll(requestHead(r.method, r.target, headers));
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
    for (const idle of this.#idle.values()) for (const c of idle) c.close();
    this.#idle.clear();
  }
}

type Framing = ReturnType<typeof framingOf>;

/** Stream a response body according to its framing, reporting how it ended exactly once. */
function bodyStream(
  conn: UpstreamConn,
  framing: Exclude<Framing, { kind: "none" }>,
  finish: (outcome: BodyOutcome) => void,
): ReadableStream<Uint8Array> {
  let remaining = framing.kind === "length" ? framing.length : 0;
  let chunkLeft = 0;
  let ended = false;
  const end = (outcome: BodyOutcome) => {
    if (ended) return;
    ended = true;
    finish(outcome);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (framing.kind === "length") {
          if (remaining === 0) {
            controller.close();
            return end("complete");
          }
          const data = await conn.readSome(Math.min(remaining, 64 * 1024));
          if (data === null) throw new ConnectionClosed("closed before the end of the body", false);
          remaining -= data.length;
          controller.enqueue(data);
          if (remaining === 0) {
            controller.close();
            end("complete");
          }
        } else if (framing.kind === "close") {
          const data = await conn.readSome(64 * 1024);
          if (data === null) {
            controller.close();
            return end("complete");
          }
          controller.enqueue(data);
        } else {
          if (chunkLeft === 0) {
            const size = parseChunkSize(await conn.readLine());
            if (size < 0) throw new ProtocolError("malformed chunk size");
            if (size === 0) {
              // Trailers are dropped: there is no way to relay them through Deno.serve.
              while ((await conn.readLine()) !== "");
              controller.close();
              return end("complete");
            }
            chunkLeft = size;
          }
          const data = await conn.readSome(Math.min(chunkLeft, 64 * 1024));
          if (data === null) throw new ConnectionClosed("closed inside a chunk", false);
          chunkLeft -= data.length;
          if (chunkLeft === 0 && (await conn.readLine()) !== "") {
            throw new ProtocolError("chunk not followed by CRLF");
          }
          controller.enqueue(data);
        }
      } catch (e) {
        conn.close();
        controller.error(e);
        end("reset");
      }
    },
    cancel() {
      conn.close();
      end("cancelled");
    },
  }, { highWaterMark: 0 });
}
