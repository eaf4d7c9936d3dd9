/**
 * One pooled HTTP/1.1 connection to a backend.
 *
 * A connection that sits idle in the pool for a while gets a pending read, as Go's `persistConn`
 * read loop does: when the backend closes an idle keep-alive connection the read ends at once and
 * the connection leaves the pool, instead of failing the next request that would have used it.
 * Under load a connection is reused within microseconds and never needs that read, which costs
 * about a quarter of a small request's CPU (an extra epoll round per exchange), so it is started
 * only after the connection has been idle for a second (lib/upstream/client.ts).
 *
 * @module
 */

import { BufferedConn, ConnectionClosed, ProtocolError } from "../http1/mod.ts";
import { headEnd, MAX_HEAD_BYTES, parseResponseHead, type ResponseHead } from "./response_head.ts";

export { CHUNK_BYTES, ConnectionClosed, ProtocolError } from "../http1/mod.ts";

/** A backend connection plus buffered, not yet consumed bytes. */
export class UpstreamConn extends BufferedConn {
  /** Served at least one response before this one (a stale keep-alive candidate). */
  reused = false;
  /** When it went back to the pool, in the pool's own unit (its sweeps, lib/upstream/client.ts). */
  idleSince = 0;
  #parked = false;

  constructor(conn: Deno.Conn) {
    super(conn, MAX_HEAD_BYTES + 1024);
  }

  /** Back in the pool: nothing buffered, idle from `since`. */
  idle(since: number): void {
    this.idleSince = since;
    this.reset();
  }

  /** Watching for a close by the backend while idle. */
  get parked(): boolean {
    return this.#parked;
  }

  /** Start the read that notices a close by the backend while idle. */
  park(onDead: () => void): void {
    this.#parked = true;
    this.readAhead().then(() => {
      // Still parked when the read ended: EOF, a reset, or bytes nobody asked for (a protocol
      // violation). Either way the connection is over.
      if (this.#parked && !this.closed) {
        this.close();
        onDead();
      }
    });
  }

  /** Take out of the pool for a new request; a pending read becomes this request's first read. */
  unpark(): void {
    this.#parked = false;
    this.reused = true;
  }

  /** Bytes after `start` already searched for the end of the head being read. */
  #scanned = 0;

  /**
   * Read and parse the next response head. Not async: a loop of reads through a handler bound
   * once per connection, where an async frame per response cost more.
   */
  readHead(): Promise<ResponseHead> {
    this.#scanned = 0;
    return this.#nextHead();
  }

  #nextHead(): Promise<ResponseHead> {
    let head: ResponseHead | undefined;
    try {
      head = this.#parsed();
    } catch (e) {
      return Promise.reject(e);
    }
    return head === undefined ? this.readAhead().then(this.#afterHeadRead) : Promise.resolve(head);
  }

  /**
   * The buffered head, parsed and consumed; undefined when it is not whole yet (a read is due).
   * Throws {@linkcode ProtocolError} for a malformed or oversized head.
   */
  #parsed(): ResponseHead | undefined {
    const available = this.end - this.start;
    const end = headEnd(this.buf, this.end, this.#scanned, this.start);
    if (end !== -1) {
      const head = parseResponseHead(this.buf, end, this.start);
      if (typeof head === "string") throw new ProtocolError(head);
      this.start += end;
      return head;
    }
    if (available > MAX_HEAD_BYTES) throw new ProtocolError("response head larger than 64 KiB");
    // Counted from start, not as an index: a read may move the unconsumed bytes to the front.
    this.#scanned = Math.max(0, available - 3);
    this.#headStarted = available > 0;
    return undefined;
  }

  /** Whether bytes of the head being read had arrived before the last read. */
  #headStarted = false;

  // Returns the head itself when the read completed it (nearly always): a promise returned from a
  // handler is resolved through a thenable job, two more microtasks and a promise per response.
  readonly #afterHeadRead = (more: boolean): ResponseHead | Promise<ResponseHead> => {
    if (more) return this.#parsed() ?? this.readAhead().then(this.#afterHeadRead);
    this.throwIfReset();
    throw new ConnectionClosed(
      this.#headStarted ? "closed inside the response head" : "closed before responding",
      false,
    );
  };
}
