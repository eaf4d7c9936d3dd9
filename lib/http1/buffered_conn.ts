/**
 * A TCP connection with a read buffer: the HTTP/1.1 reading and writing that both sides of the
 * proxy share (the backend client in lib/upstream/conn.ts, the public listener in
 * lib/listener/server.ts).
 *
 * A read can be started ahead of need ({@linkcode BufferedConn.readAhead}) and left pending: the
 * next read that needs bytes takes it over. That one pending read is how a connection notices that
 * its peer went away while nothing is being read, an idle backend connection in the pool or a
 * client waiting for its response, without a second read racing the first.
 *
 * @module
 */

/**
 * Largest body chunk read at once. Each chunk is a fresh array handed to a stream, and V8 frees
 * such arrays only at its next GC: with 64 KiB chunks, streaming 1 GiB grew RSS by ~80 MiB of
 * garbage; 16 KiB keeps it under ~50 MiB at the same throughput on loopback.
 */
export const CHUNK_BYTES = 16 * 1024;

/** Copies up to this long are cut from a per-connection slab of {@linkcode SLAB_BYTES}. */
const SLAB_TAKE_BYTES = 1024;
const SLAB_BYTES = 8 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * `String.prototype.charCodeAt`, called as a known function (`charCodeAt.call(s, i)`). A head is
 * written from literals, short copies cut from a parsed head, sliced and cons strings, and thin
 * strings (what V8 leaves where a string was internalized as a property key): more maps than V8
 * keeps a lookup polymorphic for, so `s.charCodeAt(i)` looked the method up megamorphically for
 * every byte, 7% of the proxy's CPU samples (docs/performance.md, sixth round). It is a constant
 * of this module because the optimizing compiler folds a module's own constant into the call and
 * inlines it, and does not fold an imported binding (the call then went through the generic
 * call builtins per byte).
 */
const charCodeAt = String.prototype.charCodeAt;

/** Thrown when the peer closed (`reset` false) or reset (`reset` true) the connection. */
export class ConnectionClosed extends Error {
  constructor(message: string, readonly reset: boolean) {
    super(message);
    this.name = "ConnectionClosed";
  }
}

/** Thrown when the bytes received break HTTP/1.1 framing. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/** A connection plus buffered, not yet consumed bytes. */
export class BufferedConn {
  readonly conn: Deno.Conn;
  closed = false;
  /** Buffered bytes live in `buf[start:end]`. */
  protected buf: Uint8Array<ArrayBuffer>;
  protected start = 0;
  protected end = 0;
  readonly #maxBuffer: number;
  #wbuf = new Uint8Array(512);
  /** Bytes of the head being composed in `#wbuf`. */
  #wlen = 0;
  #pending: Promise<boolean> | undefined;
  #eof = false;
  #error: Error | undefined;

  /**
   * @param maxBuffer the buffer never grows past this many bytes (a head larger is refused anyway)
   * @param initialBuffer its starting size: it doubles when a head needs more
   */
  constructor(conn: Deno.Conn, maxBuffer: number, initialBuffer = 16 * 1024) {
    this.conn = conn;
    this.#maxBuffer = maxBuffer;
    this.buf = new Uint8Array(initialBuffer);
  }

  /** Bytes buffered and not yet consumed. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** Drop buffered bytes (nothing may be pending). */
  protected reset(): void {
    this.start = this.end = 0;
  }

  /**
   * Start reading into the buffer unless a read is pending already; resolves true when bytes
   * arrived, false at EOF or on an error. Never rejects.
   */
  readAhead(): Promise<boolean> {
    if (this.#pending) return this.#pending;
    if (this.#eof) return Promise.resolve(false);
    this.#makeRoom();
    if (this.end === this.buf.length) return Promise.resolve(true); // full: the caller consumes first
    // An empty buffer (after every whole message, so nearly always) is read into as it is: a view
    // of it per read would be garbage of its own, two per proxied request.
    const into = this.end === 0 ? this.buf : this.buf.subarray(this.end);
    return this.#pending = this.conn.read(into).then(this.#onRead, this.#onReadError);
  }

  // Bound once per connection: a read is the hottest path, and fresh closures per read are garbage.
  readonly #onRead = (n: number | null): boolean => {
    this.#pending = undefined;
    if (n === null || n === 0) {
      this.#eof = true;
      return false;
    }
    this.end += n;
    return true;
  };

  readonly #onReadError = (e: Error): boolean => {
    this.#pending = undefined;
    this.#eof = true;
    this.#error = e;
    return false;
  };

  /** Read more bytes into the buffer; false at EOF, {@linkcode ConnectionClosed} on a reset. */
  protected async fill(): Promise<boolean> {
    if (await this.readAhead()) return true;
    this.throwIfReset();
    return false;
  }

  /**
   * After {@linkcode readAhead} resolved false: throw {@linkcode ConnectionClosed} when the read
   * failed (a reset), return when it was an orderly EOF. Head readers await `readAhead()` and call
   * this rather than await `fill()`: one async frame less per read, twice per proxied request.
   */
  protected throwIfReset(): void {
    if (this.#error) throw new ConnectionClosed(this.#error.message, true);
  }

  #makeRoom(): void {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end < this.buf.length) return;
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    } else if (this.buf.length < this.#maxBuffer) {
      const bigger = new Uint8Array(Math.min(this.buf.length * 2, this.#maxBuffer));
      bigger.set(this.buf);
      this.buf = bigger;
    }
  }

  /** The next `n` buffered bytes (`n` at most {@linkcode buffered}), left buffered; valid until the next read. */
  peek(n: number): Uint8Array {
    return this.buf.subarray(this.start, this.start + n);
  }

  /**
   * A copy of the next `n` buffered bytes (`n` at most {@linkcode buffered}), consumed.
   *
   * A small copy is a view into a slab the connection fills front to back and never reuses: a
   * fresh `ArrayBuffer` costs about 1.5 µs in V8 whatever its size (a view 0.1 µs), and nearly
   * every response body that arrives with its head is small. A view keeps its slab (8 KiB)
   * alive as long as it is referenced, as Node's pooled `Buffer`s do.
   */
  take(n: number): Uint8Array<ArrayBuffer> {
    const from = this.start;
    this.start += n;
    if (n > SLAB_TAKE_BYTES) return this.buf.slice(from, from + n);
    let slab = this.#slab;
    let at = this.#slabUsed;
    if (slab === undefined || at + n > slab.length) {
      slab = this.#slab = new Uint8Array(SLAB_BYTES);
      at = 0;
    }
    const buf = this.buf;
    for (let i = 0; i < n; i++) slab[at + i] = buf[from + i];
    this.#slabUsed = at + n;
    return new Uint8Array(slab.buffer, at, n);
  }

  /** Where small copies are cut from ({@linkcode take}); allocated on the first one. */
  #slab: Uint8Array<ArrayBuffer> | undefined;
  #slabUsed = 0;

  /** Up to `max` body bytes as a fresh array (safe to hand to a stream); null at EOF. */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (this.end === this.start && (this.#pending || this.#eof) && !(await this.fill())) return null;
    if (this.end > this.start) return this.take(Math.min(max, this.end - this.start));
    // Nothing buffered: read straight into the chunk handed out, saving a copy.
    const out = new Uint8Array(Math.min(max, CHUNK_BYTES));
    let n: number | null;
    try {
      n = await this.conn.read(out);
    } catch (e) {
      this.#eof = true;
      throw new ConnectionClosed((e as Error).message, true);
    }
    if (n === null) this.#eof = true;
    return n === null ? null : out.subarray(0, n);
  }

  /**
   * Hand the connection over to a byte relay (a tunnel): wait for a read already pending, then
   * return a copy of what is buffered (empty when nothing is; null at EOF) and drop the read
   * buffer, the write buffer and the slab. From here on only {@linkcode conn} is read and written;
   * an idle tunnel then holds no buffer of this connection's (16 KiB for a backend's).
   */
  async release(): Promise<Uint8Array | null> {
    if (this.end === this.start && this.#pending && !(await this.fill())) return null;
    const rest = this.end > this.start ? this.buf.slice(this.start, this.end) : EMPTY;
    this.buf = this.#wbuf = EMPTY;
    this.start = this.end = this.#wlen = 0;
    this.#slab = undefined;
    return rest.length === 0 && this.#eof ? null : rest;
  }

  /** One CRLF-terminated line (chunked framing), without the CRLF. */
  async readLine(limit = 4096): Promise<string> {
    while (true) {
      for (let i = this.start; i < this.end; i++) {
        if (this.buf[i] === 10) {
          if (i === this.start || this.buf[i - 1] !== 13) throw new ProtocolError("bare LF in chunked body");
          let s = "";
          for (let j = this.start; j < i - 1; j++) s += String.fromCharCode(this.buf[j]);
          this.start = i + 1;
          return s;
        }
      }
      if (this.end - this.start > limit) throw new ProtocolError("chunk line too long");
      if (!(await this.fill())) throw new ConnectionClosed("closed inside a chunked body", false);
    }
  }

  /**
   * Start a message head in the connection's write buffer; {@linkcode putHead} appends to it and
   * {@linkcode sendHead} writes it. A head composed in place from its parts costs no string: the
   * parts are copied as bytes, where concatenating them made a rope that encoding then flattened
   * into one more copy (about 1 KB of garbage per head). The buffer is kept per connection, which
   * is safe because a connection writes one message at a time, and the head is composed
   * synchronously just before it is sent.
   */
  beginHead(): void {
    this.#wlen = 0;
  }

  /** Append a string of byte-valued chars (`\u0000`-`\u00ff`, one byte each) to the head. */
  putHead(part: string): void {
    // `"" + part` is `part` itself, typed as a string, so its length is read without a lookup.
    const s = "" + part;
    const at = this.#wlen;
    const n = s.length;
    if (this.#wbuf.length < at + n) {
      const bigger = new Uint8Array(Math.max(at + n, 2 * this.#wbuf.length));
      bigger.set(this.#wbuf.subarray(0, at));
      this.#wbuf = bigger;
    }
    const buf = this.#wbuf;
    for (let i = 0; i < n; i++) buf[at + i] = charCodeAt.call(s, i);
    this.#wlen = at + n;
  }

  /**
   * Write the head composed since {@linkcode beginHead}, followed by `tail` in the same write
   * when it is small (one write instead of two saves a syscall).
   *
   * @param outcome what the returned promise resolves to once every byte is written: a caller
   *   that answers with a value (the listener's keep-alive verdict) gets it from this promise,
   *   not from one more `then` and its promise per message
   */
  sendHead<T = void>(tail?: Uint8Array, outcome?: T): Promise<T> {
    const len = this.#wlen;
    if (tail && tail.length > CHUNK_BYTES) {
      // A large body is written from where it is: copying it would cost more than a second write.
      return this.writeAll(this.#wbuf.subarray(0, len)).then(() => this.writeAll(tail)).then(() =>
        outcome as T
      );
    }
    const size = len + (tail ? tail.length : 0);
    if (tail) {
      if (this.#wbuf.length < size) {
        const bigger = new Uint8Array(Math.max(size, 2 * this.#wbuf.length));
        bigger.set(this.#wbuf.subarray(0, len));
        this.#wbuf = bigger;
      }
      this.#wbuf.set(tail, len);
    }
    // Written here rather than through writeAll, and not as an async function: the write's own
    // promise with one handler bound per connection, no frame per message.
    this.#wsize = size;
    this.#woutcome = outcome;
    return this.conn.write(this.#wbuf.subarray(0, size)).then(this.#afterHead) as Promise<T>;
  }

  /** Bytes of the message being written by {@linkcode sendHead}. */
  #wsize = 0;
  /** What the message's write resolves to (a connection writes one message at a time). */
  #woutcome: unknown;

  // Bound once per connection, like the read handlers.
  readonly #afterHead = (n: number): unknown =>
    n < this.#wsize ? this.writeAll(this.#wbuf.subarray(n, this.#wsize)).then(this.#written) : this.#woutcome;
  readonly #written = (): unknown => this.#woutcome;

  /** Write a string of byte-valued chars followed by `tail`: a whole head as one string. */
  writeLatin1(s: string, tail?: Uint8Array): Promise<void> {
    this.beginHead();
    this.putHead(s);
    return this.sendHead(tail);
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
