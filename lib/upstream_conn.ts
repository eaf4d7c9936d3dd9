/**
 * One pooled HTTP/1.1 connection to a backend, with a read buffer.
 *
 * While a connection sits idle in the pool a read stays pending on it, as Go's `persistConn`
 * read loop does: when the backend closes an idle keep-alive connection the read ends at once and
 * the connection leaves the pool, instead of failing the next request that would have used it.
 *
 * @module
 */

import { headEnd, MAX_HEAD_BYTES, parseHead, type ResponseHead } from "./http1.ts";

const ENCODER = new TextEncoder();

/**
 * Largest body chunk read at once. Each chunk is a fresh array handed to a stream, and V8 frees
 * such arrays only at its next GC: with 64 KiB chunks, streaming 1 GiB grew RSS by ~80 MiB of
 * garbage; 16 KiB keeps it under ~50 MiB at the same throughput on loopback.
 */
export const CHUNK_BYTES = 16 * 1024;

/** Thrown when the peer closed (`reset` false) or reset (`reset` true) the connection. */
export class ConnectionClosed extends Error {
  constructor(message: string, readonly reset: boolean) {
    super(message);
    this.name = "ConnectionClosed";
  }
}

/** Thrown when the response is malformed. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/** A connection plus buffered, not yet consumed bytes. */
export class UpstreamConn {
  readonly conn: Deno.Conn;
  /** Served at least one response before this one (a stale keep-alive candidate). */
  reused = false;
  closed = false;
  idleSince = 0;
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(16 * 1024);
  #wbuf = new Uint8Array(1024);
  #start = 0;
  #end = 0;
  #pending: Promise<number | null> | undefined;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Bytes buffered and not yet consumed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Park in the pool: start the read that notices a close by the backend. */
  park(onDead: () => void): void {
    this.idleSince = performance.now();
    this.#start = this.#end = 0;
    const pending = this.conn.read(this.#buf).catch(() => null);
    this.#pending = pending;
    pending.then(() => {
      // Still parked when the read ended: EOF, a reset, or bytes nobody asked for (a protocol
      // violation). Either way the connection is over.
      if (this.#pending === pending && !this.closed) {
        this.#pending = undefined;
        this.close();
        onDead();
      }
    });
  }

  /** Take out of the pool for a new request; the pending read becomes this request's first read. */
  unpark(): void {
    this.reused = true;
  }

  /** Read more bytes into the buffer; false at EOF. */
  async #fill(): Promise<boolean> {
    if (this.#start > 0 && this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      } else {
        const bigger = new Uint8Array(Math.min(this.#buf.length * 2, MAX_HEAD_BYTES + 1024));
        bigger.set(this.#buf);
        this.#buf = bigger;
      }
    }
    let n: number | null;
    try {
      if (this.#pending) {
        // The parked read targets the start of the (then empty) buffer, where #end still is.
        const p = this.#pending;
        this.#pending = undefined;
        n = await p;
      } else {
        n = await this.conn.read(this.#buf.subarray(this.#end));
      }
    } catch (e) {
      throw new ConnectionClosed((e as Error).message, true);
    }
    if (n === null || n === 0) return false;
    this.#end += n;
    return true;
  }

  /** Read and parse the next response head. */
  async readHead(): Promise<ResponseHead> {
    // Bytes after #start already searched. Counted from #start, not as an index, because #fill
    // may move the unconsumed bytes to the front of the buffer.
    let scanned = 0;
    while (true) {
      const available = this.#end - this.#start;
      const end = headEnd(this.#buf.subarray(this.#start), available, scanned);
      if (end !== -1) {
        const head = parseHead(this.#buf.subarray(this.#start), end);
        if (typeof head === "string") throw new ProtocolError(head);
        this.#start += end;
        return head;
      }
      if (available > MAX_HEAD_BYTES) throw new ProtocolError("response head larger than 64 KiB");
      scanned = Math.max(0, available - 3);
      if (!(await this.#fill())) {
        throw new ConnectionClosed(
          available === 0 ? "closed before responding" : "closed inside the response head",
          false,
        );
      }
    }
  }

  /** A copy of the next `n` buffered bytes (`n` at most {@linkcode buffered}), consumed. */
  take(n: number): Uint8Array<ArrayBuffer> {
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /** Up to `max` body bytes as a fresh array (safe to hand to a stream); null at EOF. */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (this.#end === this.#start && this.#pending && !(await this.#fill())) return null;
    if (this.#end > this.#start) {
      const n = Math.min(max, this.#end - this.#start);
      const out = this.#buf.slice(this.#start, this.#start + n);
      this.#start += n;
      return out;
    }
    const out = new Uint8Array(Math.min(max, CHUNK_BYTES));
    let n: number | null;
    try {
      n = await this.conn.read(out);
    } catch (e) {
      throw new ConnectionClosed((e as Error).message, true);
    }
    return n === null ? null : out.subarray(0, n);
  }

  /** One CRLF-terminated line (chunked framing), without the CRLF. */
  async readLine(limit = 4096): Promise<string> {
    while (true) {
      for (let i = this.#start; i < this.#end; i++) {
        if (this.#buf[i] === 10) {
          if (i === this.#start || this.#buf[i - 1] !== 13) {
            throw new ProtocolError("bare LF in chunked body");
          }
          let s = "";
          for (let j = this.#start; j < i - 1; j++) s += String.fromCharCode(this.#buf[j]);
          this.#start = i + 1;
          return s;
        }
      }
      if (this.#end - this.#start > limit) throw new ProtocolError("chunk line too long");
      if (!(await this.#fill())) throw new ConnectionClosed("closed inside a chunked body", false);
    }
  }

  /**
   * Write a string of byte-valued chars (`\u0000`-`\u00ff`, one byte each) through a buffer kept
   * per connection: a fresh typed array per request costs more than encoding the head. Safe to
   * reuse because a connection carries one request at a time and this resolves once written.
   */
  async writeLatin1(s: string): Promise<void> {
    if (this.#wbuf.length < s.length) this.#wbuf = new Uint8Array(Math.max(s.length, 2 * this.#wbuf.length));
    const buf = this.#wbuf;
    // TextEncoder is native and fast; it writes one byte per char exactly when all are ASCII.
    const r = ENCODER.encodeInto(s, buf);
    if (r.read !== s.length || r.written !== s.length) {
      for (let i = 0; i < s.length; i++) buf[i] = s.charCodeAt(i);
    }
    await this.writeAll(buf.subarray(0, s.length));
  }

  /** Write every byte. */
  async writeAll(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) off += await this.conn.write(off === 0 ? data : data.subarray(off));
  }

  /** Close, ignoring errors from an already closed socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}
