/**
 * A raw HTTP/1.x client for tests: writes exact bytes to a loopback socket and parses responses
 * with its own small parser, so a server is judged by an oracle that shares no code with it.
 *
 * Reads never block a test forever: every wait has a deadline, and a read that outlives its
 * deadline stays pending (not lost) for the next call, so "no bytes yet" can be asserted without
 * closing the socket.
 *
 * @module
 */

/** One parsed response. */
export interface ParsedResponse {
  /** `HTTP/1.1` or `HTTP/1.0` as sent. */
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  /** Header pairs in order, names lowercased, values as sent. */
  readonly headers: readonly [string, string][];
  /** Decoded body bytes (chunked framing removed). */
  readonly body: Uint8Array;
  /** Body decoded as UTF-8. */
  readonly text: string;
  /** The response exactly as it came over the wire (head and framed body), one char per byte. */
  readonly raw: string;
  /** Values of `name` (lowercase) joined with ", ", or null when absent. */
  header(name: string): string | null;
}

/** What {@link RawConn.readResponse} needs to know about the request it answers. */
export interface ReadOptions {
  /** The request was HEAD: the response has no body whatever its headers say. */
  readonly head?: boolean;
  /** Give up after this long. Default 2000 ms. */
  readonly timeoutMs?: number;
}

const encoder = new TextEncoder();

/** Bytes as a string, one char per byte (heads are octets, not UTF-8). */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 8192)));
  }
  return s;
}

/** A string as bytes, one byte per char (so tests can send exact octets, including controls). */
export function octets(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Why parsing stopped: need more bytes, or a whole response and how many bytes it used. */
type Parse = { done: false } | { done: true; response: ParsedResponse; used: number };

const MORE: Parse = { done: false };

function indexOfCrlf(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i;
  return -1;
}

/** Parse one response from the start of `buf`; `eof` allows a close-delimited body to end. */
function parseResponse(buf: Uint8Array, eof: boolean, head: boolean): Parse {
  const text = latin1(buf);
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return MORE;
  const lines = text.slice(0, end).split("\r\n");
  const m = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0]);
  if (!m) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`not a header line: ${JSON.stringify(line)}`);
    // Only SP and HTAB are optional whitespace (RFC 9110 section 5.6.3): `trim()` would eat a NBSP.
    headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "")]);
  }
  const header = (name: string) => {
    const values = headers.filter(([n]) => n === name).map(([, v]) => v);
    return values.length ? values.join(", ") : null;
  };
  const status = Number(m[2]);
  const bodyStart = end + 4;
  let body: Uint8Array;
  let used: number;
  if (head || status < 200 || status === 204 || status === 304) {
    body = new Uint8Array(0);
    used = bodyStart;
  } else if (/chunked/i.test(header("transfer-encoding") ?? "")) {
    const parts: Uint8Array[] = [];
    let at = bodyStart;
    while (true) {
      const lineEnd = indexOfCrlf(buf, at);
      if (lineEnd === -1) return MORE;
      const size = parseInt(text.slice(at, lineEnd).split(";")[0].trim(), 16);
      if (Number.isNaN(size)) {
        throw new Error(`bad chunk size line: ${JSON.stringify(text.slice(at, lineEnd))}`);
      }
      at = lineEnd + 2;
      if (size === 0) break;
      if (buf.length < at + size + 2) return MORE;
      parts.push(buf.slice(at, at + size));
      if (text.slice(at + size, at + size + 2) !== "\r\n") throw new Error("chunk data not followed by CRLF");
      at += size + 2;
    }
    while (true) { // trailer section, ended by an empty line
      const lineEnd = indexOfCrlf(buf, at);
      if (lineEnd === -1) return MORE;
      const empty = lineEnd === at;
      at = lineEnd + 2;
      if (empty) break;
    }
    body = parts.reduce(concat, new Uint8Array(0));
    used = at;
  } else if (header("content-length") !== null) {
    const length = Number(header("content-length"));
    if (buf.length < bodyStart + length) return MORE;
    body = buf.slice(bodyStart, bodyStart + length);
    used = bodyStart + length;
  } else {
    if (!eof) return MORE;
    body = buf.slice(bodyStart);
    used = buf.length;
  }
  const response: ParsedResponse = {
    version: m[1],
    status,
    reason: m[3],
    headers,
    body,
    text: new TextDecoder().decode(body),
    raw: text.slice(0, used),
    header,
  };
  return { done: true, response, used };
}

/** A client socket that reads with deadlines. Always `close()` it (tests run with sanitizers). */
export class RawConn {
  readonly #conn: Deno.TcpConn;
  #buf: Uint8Array = new Uint8Array(0);
  #pending: Promise<Uint8Array | null> | null = null;
  #eof = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connect to `127.0.0.1:port`. */
  static async open(port: number): Promise<RawConn> {
    return new RawConn(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** The client's own address (what the server sees as the remote address). */
  get localAddr(): Deno.NetAddr {
    return this.#conn.localAddr;
  }

  /** True once the server closed (EOF or reset). */
  get closed(): boolean {
    return this.#eof;
  }

  /** Write all of `data`; strings are sent one byte per char. */
  async write(data: string | Uint8Array): Promise<void> {
    let bytes = typeof data === "string" ? octets(data) : data;
    while (bytes.length > 0) bytes = bytes.subarray(await this.#conn.write(bytes));
  }

  /** Write UTF-8 text (for bodies with non-ASCII characters). */
  writeUtf8(text: string): Promise<void> {
    return this.write(encoder.encode(text));
  }

  /** Half-close: send FIN, keep reading. */
  async closeWrite(): Promise<void> {
    await this.#conn.closeWrite();
  }

  /** Wait up to `ms` for more bytes; "timeout" leaves the read pending for the next call. */
  async #fill(ms: number): Promise<"data" | "eof" | "timeout"> {
    if (this.#eof) return "eof";
    if (!this.#pending) {
      const chunk = new Uint8Array(65536);
      this.#pending = this.#conn.read(chunk).then(
        (n) => n === null ? null : chunk.slice(0, n),
        () => null, // a reset ends the stream like EOF does
      );
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), Math.max(0, ms)));
    const got = await Promise.race([this.#pending, timeout]);
    clearTimeout(timer);
    if (got === "timeout") return "timeout";
    this.#pending = null;
    if (got === null) {
      this.#eof = true;
      return "eof";
    }
    this.#buf = concat(this.#buf, got);
    return "data";
  }

  /** Read and parse the next response (a 1xx counts as one). Throws on timeout or early close. */
  async readResponse(options: ReadOptions = {}): Promise<ParsedResponse> {
    const deadline = performance.now() + (options.timeoutMs ?? 2000);
    while (true) {
      const parsed = parseResponse(this.#buf, this.#eof, options.head ?? false);
      if (parsed.done) {
        this.#buf = this.#buf.slice(parsed.used);
        return parsed.response;
      }
      if (this.#eof) {
        throw new Error(`connection closed before a complete response: ${JSON.stringify(latin1(this.#buf))}`);
      }
      if (await this.#fill(deadline - performance.now()) === "timeout") {
        throw new Error(`no complete response in time; got so far: ${JSON.stringify(latin1(this.#buf))}`);
      }
    }
  }

  /** Read until the server closes; returns the unparsed bytes received. Throws after `timeoutMs`. */
  async readToEnd(timeoutMs = 2000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (!this.#eof) {
      if (await this.#fill(deadline - performance.now()) === "timeout") {
        throw new Error(
          `server did not close within ${timeoutMs} ms; got ${JSON.stringify(latin1(this.#buf))}`,
        );
      }
    }
    const rest = latin1(this.#buf);
    this.#buf = new Uint8Array(0);
    return rest;
  }

  /** Read until `marker` has arrived, without reading further; returns everything up to it, consumed. */
  async readUntil(marker: string, timeoutMs = 2000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const text = latin1(this.#buf);
      const at = text.indexOf(marker);
      if (at !== -1) {
        this.#buf = this.#buf.slice(at + marker.length);
        return text.slice(0, at + marker.length);
      }
      if (this.#eof) throw new Error(`closed before ${JSON.stringify(marker)}; got ${JSON.stringify(text)}`);
      if (await this.#fill(deadline - performance.now()) === "timeout") {
        throw new Error(`no ${JSON.stringify(marker)} within ${timeoutMs} ms; got ${JSON.stringify(text)}`);
      }
    }
  }

  /** Read and discard until `bytes` have arrived (buffered ones count) or `timeoutMs`; the count. */
  async drain(bytes: number, timeoutMs = 2000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    let count = this.#buf.length;
    this.#buf = new Uint8Array(0);
    while (count < bytes && !this.#eof) {
      if (await this.#fill(deadline - performance.now()) === "timeout") break;
      count += this.#buf.length;
      this.#buf = new Uint8Array(0);
    }
    return count;
  }

  /** Bytes that arrive within `ms` (without consuming them), "" when the line stayed quiet. */
  async peek(ms: number): Promise<string> {
    const deadline = performance.now() + ms;
    while (!this.#eof && performance.now() < deadline) {
      if (await this.#fill(deadline - performance.now()) === "timeout") break;
    }
    return latin1(this.#buf);
  }

  /** Close the socket; a pending read ends with it. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    await this.#pending;
    this.#pending = null;
  }
}

/** Send `request`, read one response, and close. */
export async function exchange(
  port: number,
  request: string,
  options: ReadOptions = {},
): Promise<ParsedResponse> {
  const conn = await RawConn.open(port);
  try {
    await conn.write(request);
    return await conn.readResponse(options);
  } finally {
    await conn.close();
  }
}

/**
 * The hop-by-hop fields of RFC 9110 section 7.6.1, written out here rather than taken from
 * lib/proxy/headers.ts, so a field dropped from the proxy's list fails the tests that use this.
 */
export const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];
