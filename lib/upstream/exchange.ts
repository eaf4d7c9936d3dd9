/**
 * One request on one backend connection, from its first write to the end of its response.
 *
 * The state of an exchange (why it was stopped, whether the client is watched, whether the
 * request was written whole) and the callbacks that read it (the deadline's expiry, the client's
 * abort listener, the end of the response body) live in one object: its methods are what were a
 * closure each, so a proxied request allocates this object instead of seven closures, their
 * context and a promise chain (docs/performance.md). The object is its own deadline entry and,
 * through `handleEvent`, its own abort listener.
 *
 * @module
 */

import { type BodyOutcome, bodyStream } from "../http1/mod.ts";
import type { Deadlines, Expiring } from "../base/mod.ts";
import { declaredLength, framingOf, type ResponseHead } from "./response_head.ts";
import { ConnectionClosed, ProtocolError, type UpstreamConn } from "./conn.ts";
import type {
  FailureKind,
  Origin,
  UpstreamFailure,
  UpstreamRequest,
  UpstreamResponse,
  UpstreamTimeouts,
  UpstreamTunnel,
} from "./types.ts";
import { writeRequest } from "./write.ts";
import type { BodyFraming } from "../http1/mod.ts";

/**
 * How long a request waits for response headers before the client's signal is watched. A client
 * that leaves earlier is noticed this much later; the backend request is still aborted.
 */
export const WATCH_CLIENT_AFTER_MS = 20;

/** What an exchange gives back to the client it belongs to. */
export interface ExchangePool {
  /** Take a connection the exchange left reusable back into `origin`'s idle pool. */
  reuse(origin: Origin, conn: UpstreamConn): void;
  /** Send the exchange's request again, on another connection, never replaying a second time. */
  replay(ex: ConnExchange): Promise<UpstreamResponse | UpstreamFailure>;
}

/** One request's exchange on a connection; {@linkcode ConnExchange.run} does it once. */
export class ConnExchange implements Expiring, EventListenerObject {
  /**
   * One deadline serves both waits: first, when to start watching the client (reading its signal
   * has a cost, and most responses arrive long before a client gives up), then, from the same
   * entry, the response timeout.
   */
  deadline: number;
  /** Whoever ends the exchange early records why, then closes the socket to wake pending I/O. */
  #failure: UpstreamFailure | undefined;
  #watching = false;
  /** Reuse needs the request fully written on a connection still open. */
  #writeDone = false;
  #head: ResponseHead | undefined;
  /** The connection, from {@linkcode run} on. */
  conn!: UpstreamConn;
  #framing: BodyFraming | undefined;

  /**
   * @param pool takes the connection back once the exchange left it reusable, and replays
   * @param onEnd called once when the response body ends (never for a failure)
   * @param mayReplay the request may be sent again when a reused connection was stale
   */
  constructor(
    readonly origin: Origin,
    readonly request: UpstreamRequest,
    readonly timeouts: UpstreamTimeouts,
    readonly started: number,
    readonly deadlines: Deadlines,
    readonly pool: ExchangePool,
    readonly onEnd: (outcome: BodyOutcome) => void,
    readonly mayReplay: boolean,
  ) {
    this.deadline = started + Math.min(WATCH_CLIENT_AFTER_MS, timeouts.requestMs);
  }

  /**
   * Write the request on `conn` and read the response head. Not async: the head read's promise
   * with a handler, where an async frame and its awaits cost an allocation each per request.
   *
   * @returns the response or a failure; a reused connection that turns out to have been closed
   *   by the backend before it answered is replayed once when `mayReplay`, else a reset
   */
  run(conn: UpstreamConn): Promise<UpstreamResponse | UpstreamFailure> {
    this.conn = conn;
    this.deadlines.add(this);
    this.#writing = this.#write();
    return conn.readHead().then(this.#onHead, this.#onHeadError);
  }

  /** The request's write; it never rejects. */
  #writing: Promise<void> | undefined;
  /** The write is over (done or failed): nothing to wait for. */
  #writeSettled = false;

  // Bound once per exchange: the head's handlers.
  readonly #onHead = (
    head: ResponseHead,
  ): UpstreamResponse | UpstreamFailure | Promise<UpstreamResponse | UpstreamFailure> => {
    // Interim responses (1xx but 101) are skipped: the final one follows on the same connection.
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      return this.conn.readHead().then(this.#onHead, this.#onHeadError);
    }
    this.#done();
    // A tunnel starts once its request is written.
    if (head.status === 101 && this.request.upgrade && !this.#writeSettled) {
      return this.#writing!.then(() => this.#response(head));
    }
    return this.#response(head);
  };

  readonly #onHeadError = (e: unknown): Promise<UpstreamResponse | UpstreamFailure> => {
    this.#done();
    this.conn.close();
    return this.#writing!.then(() => this.#failed(e));
  };

  /** A failure reading the head, once the write is over. */
  #failed(e: unknown): UpstreamFailure | Promise<UpstreamResponse | UpstreamFailure> {
    if (this.#failure) return this.#failure;
    if (e instanceof ConnectionClosed && !e.reset && this.conn.reused) {
      if (this.mayReplay) return this.pool.replay(this);
      return { ok: false, kind: "reset", message: "connection closed before responding" };
    }
    if (e instanceof ProtocolError) {
      return { ok: false, kind: "reset", message: `bad response: ${e.message}` };
    }
    return { ok: false, kind: "reset", message: (e as Error).message };
  }

  /** The final response head is in (and the write over unless a body still streams). */
  #response(head: ResponseHead): UpstreamResponse | UpstreamFailure | Promise<UpstreamResponse> {
    const { conn, request: r } = this;
    if (head.status === 101) {
      if (!r.upgrade) {
        conn.close();
        return { ok: false, kind: "reset", message: "unexpected 101 Switching Protocols" };
      }
      const upgraded = upgradedOf(conn, this.onEnd);
      return { ok: true, status: 101, headers: head.headers, body: null, length: undefined, upgraded };
    }
    const framing = framingOf(r.method, head);
    this.#head = head;
    this.#framing = framing;
    const length = declaredLength(framing, head);
    if (framing.kind === "none" || (framing.kind === "length" && framing.length <= conn.buffered)) {
      // The response is complete. Without a request body still streaming, it is over once the
      // write is (nearly always already: no wait); with one, the connection cannot be reused and
      // finish() closes it.
      const body = framing.kind === "none" ? null : conn.take(framing.length);
      if (!(r.body instanceof ReadableStream) && !this.#writeSettled) {
        return this.#writing!.then(() => this.#complete(head, body, length));
      }
      return this.#complete(head, body, length);
    }
    const body = bodyStream(conn, framing, (outcome) => this.finish(outcome));
    return { ok: true, status: head.status, headers: head.headers, body, length };
  }

  #complete(
    head: ResponseHead,
    body: Uint8Array<ArrayBuffer> | null,
    length: number | undefined,
  ): UpstreamResponse {
    this.finish("complete");
    return { ok: true, status: head.status, headers: head.headers, body, length };
  }

  /** The response is over: pool the connection when it can serve another request, then tell `onEnd`. */
  finish(outcome: BodyOutcome): void {
    const conn = this.conn;
    // Reuse only a connection whose request was fully written and whose response was fully read.
    if (
      outcome === "complete" && !this.#head!.close && this.#framing!.kind !== "close" && this.#writeDone &&
      conn.buffered === 0
    ) {
      this.pool.reuse(this.origin, conn);
    } else {
      conn.close();
    }
    this.onEnd(outcome);
  }

  /** The deadline passed: start watching the client, or give up on the response. */
  expire(): void {
    if (!this.#watching) {
      this.#watching = true;
      const signal = this.request.signal;
      if (signal.aborted) return this.handleEvent();
      signal.addEventListener("abort", this, { once: true });
      const requestMs = this.timeouts.requestMs;
      if (requestMs > WATCH_CLIENT_AFTER_MS) {
        this.deadline = this.started + requestMs;
        return this.deadlines.add(this);
      }
    }
    this.#stop("timeout", `no response within ${this.timeouts.requestMs}ms`);
  }

  /** The client's signal aborted: the client went away. */
  handleEvent(): void {
    this.#stop("cancelled", "client went away");
  }

  #stop(kind: FailureKind, message: string): void {
    this.#failure ??= { ok: false, kind, message };
    this.conn.close();
  }

  /** Response headers are in (or the exchange failed): no deadline, no watching any more. */
  #done(): void {
    this.deadlines.delete(this);
    if (this.#watching) this.request.signal.removeEventListener("abort", this);
  }

  /**
   * Write the request; never rejects: a failed write closes the connection. Not async: the
   * write's own promise with two handlers, where an async frame cost more.
   */
  #write(): Promise<void> {
    let writing: Promise<void>;
    try {
      writing = writeRequest(this.conn, this.request);
    } catch (e) {
      this.#writeFailed(e);
      return Promise.resolve();
    }
    return writing.then(() => {
      this.#writeSettled = true;
      this.#writeDone = !this.conn.closed;
    }, (e) => this.#writeFailed(e));
  }

  #writeFailed(e: unknown): void {
    this.#writeSettled = true;
    if (this.request.signal.aborted || (e as Error).name === "ClientBodyError") {
      this.#stop("cancelled", "client request body aborted");
    } else this.conn.close();
  }
}

/**
 * The connection is the tunnel's now: never pooled again, ended when the tunnel ends. Built
 * outside the exchange so its closure holds only these two, not the exchange and its request.
 */
function upgradedOf(conn: UpstreamConn, onEnd: (outcome: BodyOutcome) => void): UpstreamTunnel {
  return {
    conn,
    end: (outcome) => {
      conn.close();
      onEnd(outcome);
    },
  };
}
