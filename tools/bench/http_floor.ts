/**
 * The second yardstick, not a product path: the least an HTTP/1.1 proxy does on this runtime.
 * tools/bench/forwarder.ts is the runtime's floor for moving bytes; this is the floor for any proxy
 * that reads HTTP/1.1 heads and rewrites them as strings. Per request it finds the request head,
 * decodes it into a string, splits its field lines, composes the upstream head (hop-by-hop fields
 * dropped, `x-forwarded-for` added) and writes it with `TextEncoder.encodeInto`; then it does the
 * same with the response head, frames the body by its `content-length` and writes head and body to
 * the client at once. So the gap between the byte forwarder and this is what the minimum HTTP work
 * costs on this runtime, and the gap between this and this proxy is what this proxy's own features
 * (balancing, health, timeouts, limits, metrics, logging, validation) cost.
 *
 * deno run --allow-net=127.0.0.1 tools/bench/http_floor.ts LISTEN_PORT BACKEND_PORT
 *
 * Each client connection gets one backend connection and one sequential loop: no pooling, no
 * timeouts, no metrics, no validation beyond finding the heads. What it leaves out, on purpose:
 *
 * - Request bodies are framed by `content-length` only: a chunked request body is not understood
 *   (its bytes would be read as the next request head).
 * - A response without `content-length` is copied until the backend closes, then both connections
 *   close (`transfer-encoding` is not parsed). A response to HEAD, a 204 and a 304 have no body;
 *   interim 1xx responses are not supported.
 * - Only `connection` and `keep-alive` are dropped, not the fields `connection` names.
 * - A head longer than the 16 KiB read buffer, any error and either side's EOF close both
 *   connections; so does a backend that closed its idle connection, on the client's next request.
 *
 * @module
 */

/** Size of each connection's read buffers; a head must fit in one. */
const READ_BYTES = 16 * 1024;
/**
 * Size of each connection's write buffer: a head read into 16 KiB always fits once re-encoded,
 * even when each invalid byte decodes to a 3-byte U+FFFD.
 */
const WRITE_BYTES = 64 * 1024;

const CR = 13;
const LF = 10;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Write all of `bytes` (a socket write may take only part of them). */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** One side's read buffer: bytes read from `conn` and not yet consumed are `buf[start, end)`. */
class Reader {
  readonly buf = new Uint8Array(READ_BYTES);
  start = 0;
  end = 0;

  constructor(readonly conn: Deno.Conn) {}

  /** Read more bytes after the buffered ones; false at EOF. Throws when the buffer is full. */
  async fill(): Promise<boolean> {
    if (this.start === this.end) this.start = this.end = 0;
    else if (this.end === this.buf.length) {
      if (this.start === 0) throw new Error("head too long");
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /** The next head up to CRLFCRLF (left out), decoded; null at EOF. */
  async head(): Promise<string | null> {
    let from = this.start;
    for (;;) {
      const buf = this.buf;
      for (let i = from; i + 3 < this.end; i++) {
        if (buf[i + 3] === LF && buf[i + 2] === CR && buf[i + 1] === LF && buf[i] === CR) {
          const head = decoder.decode(buf.subarray(this.start, i));
          this.start = i + 4;
          return head;
        }
      }
      // Scan only the new bytes next time (with the 3 before them: CRLFCRLF may straddle the reads).
      from = Math.max(this.start, this.end - 3);
      const before = this.start;
      if (!await this.fill()) return null;
      from -= before - this.start;
    }
  }
}

/** The request or status line of `head`. */
function firstLine(head: string): string {
  const eol = head.indexOf("\r\n");
  return eol === -1 ? head : head.slice(0, eol);
}

/** The field lines of `head` (after its first line) as [lower-cased name, trimmed value] pairs. */
function fields(head: string): [string, string][] {
  const out: [string, string][] = [];
  let i = head.indexOf("\r\n");
  if (i === -1) return out;
  i += 2;
  while (i < head.length) {
    let eol = head.indexOf("\r\n", i);
    if (eol === -1) eol = head.length;
    const colon = head.indexOf(":", i);
    if (colon !== -1 && colon < eol) {
      out.push([head.slice(i, colon).toLowerCase(), head.slice(colon + 1, eol).trim()]);
    }
    i = eol + 2;
  }
  return out;
}

/** Fields a proxy does not forward (the hop-by-hop fields this floor knows). */
function hopByHop(name: string): boolean {
  return name === "connection" || name === "keep-alive";
}

/**
 * Write `head` (composed, ending in CRLFCRLF) and then the next `length` bytes of `from` to `to`:
 * head and the body bytes already read in one write when they fit in `wb`, the rest as they come.
 * `length` Infinity copies until `from` ends. False when `from` ended before `length` bytes; throws
 * on a `length` that is not a number (no `content-length` validation beyond that).
 */
async function send(
  head: string,
  from: Reader,
  length: number,
  to: Deno.Conn,
  wb: Uint8Array,
): Promise<boolean> {
  if (!(length >= 0)) throw new Error("bad content-length");
  const { read, written } = encoder.encodeInto(head, wb);
  if (read !== head.length) throw new Error("head too long");
  let left = length;
  const buffered = Math.min(left, from.end - from.start);
  if (written + buffered <= wb.length) {
    wb.set(from.buf.subarray(from.start, from.start + buffered), written);
    await writeAll(to, wb.subarray(0, written + buffered));
  } else {
    await writeAll(to, wb.subarray(0, written));
    await writeAll(to, from.buf.subarray(from.start, from.start + buffered));
  }
  from.start += buffered;
  left -= buffered;
  while (left > 0) {
    if (!await from.fill()) return length === Infinity;
    const n = Math.min(left, from.end - from.start);
    await writeAll(to, from.buf.subarray(from.start, from.start + n));
    from.start += n;
    left -= n;
  }
  return true;
}

/** Proxy one client connection over its own backend connection until either side ends. */
async function serve(client: Deno.TcpConn, backendPort: number): Promise<void> {
  let backend: Deno.TcpConn;
  try {
    backend = await Deno.connect({ hostname: "127.0.0.1", port: backendPort });
  } catch {
    client.close();
    return;
  }
  client.setNoDelay(true);
  backend.setNoDelay(true);
  const fromClient = new Reader(client);
  const fromBackend = new Reader(backend);
  const wb = new Uint8Array(WRITE_BYTES);
  const forwardedFor = `x-forwarded-for: ${client.remoteAddr.hostname}\r\n\r\n`;
  try {
    for (;;) {
      const request = await fromClient.head();
      if (request === null) break;
      const requestLine = firstLine(request);
      let up = requestLine + "\r\n";
      let requestBody = 0;
      for (const [name, value] of fields(request)) {
        if (name === "content-length") requestBody = Number(value);
        if (!hopByHop(name)) up += name + ": " + value + "\r\n";
      }
      if (!await send(up + forwardedFor, fromClient, requestBody, backend, wb)) break;

      const response = await fromBackend.head();
      if (response === null) break;
      const status = Number(response.slice(9, 12));
      let down = firstLine(response) + "\r\n";
      let responseBody = Infinity;
      for (const [name, value] of fields(response)) {
        if (name === "content-length") responseBody = Number(value);
        if (!hopByHop(name)) down += name + ": " + value + "\r\n";
      }
      if (status === 204 || status === 304 || requestLine.startsWith("HEAD ")) responseBody = 0;
      const closes = responseBody === Infinity;
      if (
        !await send(
          down + (closes ? "connection: close\r\n\r\n" : "\r\n"),
          fromBackend,
          responseBody,
          client,
          wb,
        )
      ) {
        break;
      }
      if (closes) break;
    }
  } catch { /* either side went away, or a head did not fit */ }
  for (const c of [client, backend]) {
    try {
      c.close();
    } catch { /* closed */ }
  }
}

if (import.meta.main) {
  const [listenPort, backendPort] = Deno.args.map(Number);
  if (Deno.args.length !== 2 || !Number.isInteger(listenPort) || !Number.isInteger(backendPort)) {
    console.error("usage: http_floor.ts LISTEN_PORT BACKEND_PORT");
    Deno.exit(2);
  }
  for await (const conn of Deno.listen({ hostname: "127.0.0.1", port: listenPort })) {
    void serve(conn, backendPort);
  }
}
