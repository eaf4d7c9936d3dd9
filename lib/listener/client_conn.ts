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
  /** The head deadline, one object per connection rather than per request. */
  readonly #timer = {
    deadline: 0,
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
   * Read and parse the next request head.
   *
   * @param fresh the connection has served no request yet (its first head is due within the
   *   header timeout, not the idle one)
   * @returns the head; a rejection to answer before closing; or null when the connection ended
   *   (closed by the client, or idle too long) and nobody is left to answer
   */
  async readHead(limits: HeadLimits, fresh: boolean): Promise<RequestHead | Rejection | null> {
    let idle = !fresh && this.buffered === 0;
    const timer = this.#timer;
    timer.deadline = limits.now() + (idle ? limits.idleTimeoutMs() : limits.headerTimeoutMs());
    limits.deadlines.add(timer);
    try {
      let skippedEmptyLine = false;
      let scanned = 0;
      while (true) {
        if (this.buffered > 0) {
          // RFC 9112 section 2.2: ignore one empty line before a request line.
          if (!skippedEmptyLine && scanned === 0 && this.buffered >= 2 && this.buf[this.start] === 13) {
            skippedEmptyLine = true;
            if (this.buf[this.start + 1] === 10) this.start += 2;
          }
          const found = scanHead(this.buf, this.start, this.end, scanned);
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
          scanned = this.buffered - 1;
        }
        let more: boolean;
        try {
          more = await this.readAhead();
          if (!more) this.throwIfReset();
        } catch {
          more = false;
        }
        if (!more || this.timedOut) return null;
        if (idle) {
          // The next request has begun: from now on it has the header timeout.
          idle = false;
          limits.deadlines.delete(timer);
          timer.deadline = limits.now() + limits.headerTimeoutMs();
          limits.deadlines.add(timer);
        }
      }
    } finally {
      limits.deadlines.delete(timer);
    }
  }
}

const TIMEOUT_BODY = "408 Request Timeout\n";
const TIMEOUT = "HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n" +
  `content-length: ${TIMEOUT_BODY.length}\r\nconnection: close\r\n\r\n${TIMEOUT_BODY}`;
