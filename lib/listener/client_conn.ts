/**
 * A client connection on the public listener: reading request heads under a deadline.
 *
 * The deadline is what `Deno.serve` lacks: a client that opens a connection, or starts a head,
 * and then sends nothing (or one byte at a time, as slowloris does) is cut off after
 * `headerTimeoutMs` with a 408, and an idle keep-alive connection after `idleTimeoutMs`, silently,
 * like NGINX's `client_header_timeout` and `keepalive_timeout`.
 *
 * @module
 */

import { BufferedConn } from "../http1/mod.ts";
import type { Deadlines } from "../base/mod.ts";
import { parseRequestHead, type Rejection, type RequestHead, scanHead } from "./request_head.ts";

/** Limits and clock for reading heads. */
export interface HeadLimits {
  readonly maxHeadBytes: number;
  readonly maxHeaders: number;
  readonly headerTimeoutMs: () => number;
  readonly idleTimeoutMs: () => number;
  readonly tunnelIdleMs: () => number;
  readonly deadlines: Deadlines;
  readonly now: () => number;
}

/** A client connection with a read buffer. */
export class ClientConn extends BufferedConn {
  /** A request of this connection is being handled or answered. */
  active = false;
  /** The head deadline passed. */
  timedOut = false;
  /**
   * The head deadline, one entry per connection rather than per request. It stays in the
   * deadline set from the first head to the connection's close, with an infinite deadline while
   * no head is due: taking it out after each head emptied the set whenever every connection was
   * busy, and re-arming the set's timer cost more than the request's head parsing.
   */
  readonly #timer = {
    deadline: Infinity,
    expire: () => {
      this.timedOut = true;
      // Nothing received is an idle connection: close without a word. A partial head gets a 408.
      if (this.buffered === 0) return this.close();
      this.writeLatin1(TIMEOUT).catch(() => {}).finally(() => this.close());
    },
  };

  constructor(conn: Deno.Conn, maxHeadBytes: number) {
    // Most request heads are a few hundred bytes; a thousand idle keep-alive clients should not
    // hold 16 KiB each.
    super(conn, maxHeadBytes + 1024, 2048);
  }

  /**
   * Read and parse the next request head. Not async: the reads go through a handler bound once
   * per connection, where an async frame and its awaits cost an allocation each per request.
   *
   * @param fresh the connection has served no request yet (its first head is due within the
   *   header timeout, not the idle one)
   * @returns the head; a rejection to answer before closing; or null when the connection ended
   *   (closed by the client, or idle too long) and nobody is left to answer
   */
  readHead(limits: HeadLimits, fresh: boolean): Promise<RequestHead | Rejection | null> {
    this.#limits = limits;
    this.#idle = !fresh && this.buffered === 0;
    this.#skippedEmptyLine = false;
    this.#scanned = 0;
    const found = this.#scan();
    if (found !== undefined) return Promise.resolve(found);
    const timer = this.#timer;
    timer.deadline = limits.now() + (this.#idle ? limits.idleTimeoutMs() : limits.headerTimeoutMs());
    limits.deadlines.add(timer);
    return this.readAhead().then(this.#afterRead);
  }

  override close(): void {
    super.close();
    this.#limits?.deadlines.delete(this.#timer);
  }

  /** The limits of the head being read. */
  #limits!: HeadLimits;
  /** The head being read is a keep-alive connection's wait for its next request (idle timeout). */
  #idle = false;
  #skippedEmptyLine = false;
  /** Bytes after `start` already checked for the end of the head being read. */
  #scanned = 0;

  /** The buffered head, a rejection, or undefined when more bytes are needed. */
  #scan(): RequestHead | Rejection | undefined {
    if (this.buffered === 0) return undefined;
    const limits = this.#limits;
    // RFC 9112 section 2.2: ignore one empty line before a request line.
    if (!this.#skippedEmptyLine && this.#scanned === 0 && this.buffered >= 2 && this.buf[this.start] === 13) {
      this.#skippedEmptyLine = true;
      if (this.buf[this.start + 1] === 10) this.start += 2;
    }
    const found = scanHead(this.buf, this.start, this.end, this.#scanned);
    if (typeof found === "object") return found;
    if (found > limits.maxHeadBytes || (found < 0 && this.buffered > limits.maxHeadBytes)) {
      return { status: 431, reason: `request head larger than ${limits.maxHeadBytes} bytes` };
    }
    if (found > 0) {
      const head = parseRequestHead(this.buf, limits.maxHeaders, this.start, this.start + found - 2);
      this.start += found;
      return head;
    }
    // Recheck the last byte: a CR there is judged by the byte after it.
    this.#scanned = this.buffered - 1;
    return undefined;
  }

  // Bound once per connection, like the read handlers it follows.
  readonly #afterRead = (
    more: boolean,
  ): RequestHead | Rejection | null | Promise<RequestHead | Rejection | null> => {
    const timer = this.#timer;
    // EOF, a reset, or the deadline's close: nobody is left to answer.
    if (!more || this.timedOut) {
      timer.deadline = Infinity;
      return null;
    }
    let found: RequestHead | Rejection | undefined;
    try {
      found = this.#scan();
    } catch (e) {
      timer.deadline = Infinity;
      throw e;
    }
    if (found !== undefined) {
      timer.deadline = Infinity;
      return found;
    }
    if (this.#idle) {
      // The next request has begun and is not whole yet: from now on it has the header timeout.
      this.#idle = false;
      const limits = this.#limits;
      timer.deadline = limits.now() + limits.headerTimeoutMs();
      limits.deadlines.add(timer);
    }
    return this.readAhead().then(this.#afterRead);
  };
}

const TIMEOUT_BODY = "408 Request Timeout\n";
const TIMEOUT = "HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n" +
  `content-length: ${TIMEOUT_BODY.length}\r\nconnection: close\r\n\r\n${TIMEOUT_BODY}`;
