/**
 * One request on the public listener as the handler sees it: head, body and a signal that fires
 * when the client goes away.
 *
 * Noticing a client that left needs a read on its socket while the response is prepared. The
 * read that would fetch the next request on the connection is started as soon as this request's
 * body is in; EOF on it means the client is gone (NGINX treats a half-close the same way), bytes
 * are simply a pipelined next request. So watching costs no extra read.
 *
 * @module
 */

import { type BodyOutcome, bodyStream, type BufferedConn } from "../http1/mod.ts";
import type { RequestHead, RequestHeaders } from "./request_head.ts";

/** A request on the public listener. */
export interface ServerRequest {
  readonly method: string;
  /** The request-target exactly as sent (origin-form `/a?b`, or absolute-form). */
  readonly target: string;
  readonly version: "HTTP/1.0" | "HTTP/1.1" | "HTTP/2";
  readonly headers: RequestHeaders;
  /**
   * Null without a body; bytes when the whole body arrived with the head; otherwise a stream
   * read from the socket, which errors when the client stops short or breaks chunked framing.
   */
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null;
  readonly remoteAddr: Deno.NetAddr;
  /** The request came over TLS (`X-Forwarded-Proto: https`). */
  readonly secure: boolean;
  /** Aborts when the client closes before its response is written, or a write to it fails. */
  readonly signal: AbortSignal;
  /**
   * Why the body stream errored, once it has: a `ProtocolError` when the client broke its framing
   * (a malformed chunk), a `ConnectionClosed` when it stopped short. Undefined otherwise.
   */
  readonly bodyError?: Error;
}

/** Unread body bytes drained after a response to keep the connection; more and it closes. */
const DRAIN_BYTES = 64 * 1024;
const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";

/** The server's side of one request: the handler's view plus what the connection loop needs. */
export class Exchange implements ServerRequest {
  readonly method: string;
  readonly target: string;
  readonly version: "HTTP/1.0" | "HTTP/1.1";
  readonly headers: RequestHeaders;
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null;
  readonly remoteAddr: Deno.NetAddr;
  readonly secure: boolean;
  /** How the body ended; undefined while it is still being read. */
  bodyOutcome: BodyOutcome | undefined;
  bodyError: Error | undefined;
  /** The response is written; a late EOF no longer aborts. */
  done = false;
  /** Body bytes read from the client so far. */
  bytes = 0;
  /** Response body bytes written (set by the response writer). */
  bytesOut = 0;
  readonly #conn: BufferedConn;
  #drainable = false;
  #controller: AbortController | undefined;
  #aborted = false;

  constructor(conn: BufferedConn, head: RequestHead, remoteAddr: Deno.NetAddr, secure = false) {
    this.#conn = conn;
    this.secure = secure;
    this.method = head.method;
    this.target = head.target;
    this.version = head.version;
    this.headers = head.headers;
    this.remoteAddr = remoteAddr;
    const length = head.contentLength;
    if (length === undefined && !head.chunked) {
      this.body = null;
      this.#bodyEnded("complete");
    } else if (length !== undefined && conn.buffered >= length) {
      this.body = conn.take(length);
      this.bytes = length;
      this.#bodyEnded("complete");
    } else {
      const framing = length === undefined
        ? { kind: "chunked" as const }
        : { kind: "length" as const, length };
      const stream = bodyStream(conn, framing, (outcome, error) => this.#bodyEnded(outcome, error), this);
      const waiting = head.expectContinue && conn.buffered === 0;
      // A client waiting for 100 Continue has sent nothing: closing beats inviting a body to discard.
      this.#drainable = !waiting && length !== undefined && length <= DRAIN_BYTES;
      this.body = waiting ? continueFirst(conn, stream) : stream;
    }
  }

  get signal(): AbortSignal {
    // Created on first read: most requests finish without anyone asking.
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** The client is gone or unreachable: abort whoever is working on its behalf. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#controller?.abort();
  }

  #bodyEnded(outcome: BodyOutcome, error?: Error): void {
    this.bodyOutcome = outcome;
    // Recorded before the abort below, so whoever the abort wakes can tell a broken body.
    this.bodyError = error;
    if (outcome === "reset") return this.abort();
    if (outcome !== "complete") return;
    this.#conn.readAhead().then((more) => {
      if (!more && !this.done) this.abort();
    });
  }

  /**
   * After the response: read what is left of an unread body so the connection can carry the
   * next request. False when the connection must close instead.
   */
  async finishBody(): Promise<boolean> {
    if (this.bodyOutcome === "complete") return true;
    const body = this.body;
    if (this.bodyOutcome !== undefined || !(body instanceof ReadableStream) || body.locked) return false;
    if (!this.#drainable) return false;
    try {
      for await (const _ of body);
    } catch {
      return false;
    }
    return this.bodyOutcome === "complete";
  }
}

/** Answer `Expect: 100-continue` when the body is first read, not before (RFC 9110 section 10.1.1). */
function continueFirst(conn: BufferedConn, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!reader) {
        reader = body.getReader();
        await conn.writeLatin1(CONTINUE);
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader ? reader.cancel(reason) : body.cancel(reason),
  }, { highWaterMark: 0 });
}
