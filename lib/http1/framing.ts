/**
 * HTTP/1.1 message framing for the upstream client (RFC 9112): response heads, body length rules
 * and the chunked transfer coding.
 *
 * Kept apart from connection handling so the parsing rules can be tested on bytes alone. The
 * parser is strict where laxness enables response splitting or desync (bare LF in the status line,
 * obs-fold, conflicting Content-Length) and refuses such responses instead of guessing.
 *
 * @module
 */

/** A parsed response head. */
export interface ResponseHead {
  readonly status: number;
  /** Header pairs flattened (`[name, value, name, value, ...]`), original case, in order. */
  readonly headers: string[];
  /** Bytes of the head including the final CRLF CRLF. */
  readonly size: number;
  /** The server asked to close the connection (or spoke HTTP/1.0 without keep-alive). */
  readonly close: boolean;
  /** `Content-Length` when present and valid. */
  readonly contentLength: number | undefined;
  /** The final transfer coding is chunked. */
  readonly chunked: boolean;
  /** `Transfer-Encoding` is present (with or without chunked). */
  readonly transferEncoding: boolean;
}

/** Largest response head accepted; larger heads are an upstream error, as in NGINX (`proxy_buffer_size`). */
export const MAX_HEAD_BYTES = 64 * 1024;

const CR = 13;
const LF = 10;

/** Index just past the CRLFCRLF ending the head in `buf[0:len]`, or -1 when not complete yet. */
export function headEnd(buf: Uint8Array, len: number, from = 0): number {
  for (let i = Math.max(3, from); i < len; i++) {
    if (buf[i] === LF && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
  }
  return -1;
}

const ASCII = new TextDecoder();

/**
 * Header bytes `buf[start:end]` as a string, one char per byte (field values are opaque octets,
 * RFC 9110 section 5.5). Heads are nearly always ASCII, which the native decoder turns into the same
 * chars without the garbage of `String.fromCharCode.apply` over a typed array.
 */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (buf[i] >= 0x80) {
      let s = "";
      for (let j = start; j < end; j += 8192) {
        s += String.fromCharCode.apply(null, buf.subarray(j, Math.min(end, j + 8192)) as unknown as number[]);
      }
      return s;
    }
  }
  return ASCII.decode(buf.subarray(start, end));
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parse a response head ending at `end` (from {@linkcode headEnd}).
 *
 * @returns the head, or an error message naming what was malformed.
 */
export function parseHead(buf: Uint8Array, end: number): ResponseHead | string {
  const lines = latin1(buf, 0, end - 4).split("\r\n");
  const m = STATUS_LINE.exec(lines[0]);
  if (!m) return `malformed status line ${JSON.stringify(lines[0].slice(0, 80))}`;
  const minor = m[1];
  const status = Number(m[2]);
  const headers: string[] = [];
  let close = minor === "0";
  let contentLength: number | undefined;
  let chunked = false;
  let transferEncoding = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) return `malformed header line ${JSON.stringify(line.slice(0, 80))}`;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return `invalid header name ${JSON.stringify(name.slice(0, 80))}`;
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) return `invalid character in header ${name}`;
    headers.push(name, value);
    switch (name.toLowerCase()) {
      case "content-length": {
        // Repeated or comma-listed values must agree (RFC 9110 8.6); otherwise the length is ambiguous.
        for (const part of value.split(",")) {
          const v = part.trim();
          if (!/^\d{1,15}$/.test(v)) return `invalid Content-Length ${JSON.stringify(value)}`;
          if (contentLength !== undefined && Number(v) !== contentLength) {
            return "conflicting Content-Length values";
          }
          contentLength = Number(v);
        }
        break;
      }
      case "transfer-encoding": {
        transferEncoding = true;
        const codings = value.toLowerCase().split(",").map((s) => s.trim()).filter(Boolean);
        chunked = codings.at(-1) === "chunked";
        break;
      }
      case "connection": {
        const tokens = value.toLowerCase().split(",").map((s) => s.trim());
        if (tokens.includes("close")) close = true;
        else if (minor === "0" && tokens.includes("keep-alive")) close = false;
        break;
      }
    }
  }
  return { status, headers, size: end, close, contentLength, chunked, transferEncoding };
}

/** How the response body is delimited (RFC 9112 section 6.3). */
export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** Apply RFC 9112 section 6.3 to a request method and a response head. */
export function framingOf(method: string, head: ResponseHead): BodyFraming {
  if (method === "HEAD" || head.status === 204 || head.status === 304 || head.status < 200) {
    return { kind: "none" };
  }
  // Transfer-Encoding overrides Content-Length; a non-chunked final coding means "until close".
  if (head.transferEncoding) return head.chunked ? { kind: "chunked" } : { kind: "close" };
  if (head.contentLength !== undefined) return { kind: "length", length: head.contentLength };
  return { kind: "close" };
}

/** Parse a chunk-size line (`1a;ext=1`) without the CRLF; -1 when malformed. */
export function parseChunkSize(line: string): number {
  const semi = line.indexOf(";");
  const hex = (semi === -1 ? line : line.slice(0, semi)).trim();
  if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) return -1;
  return parseInt(hex, 16);
}

/** Encode one chunk of a chunked request body. */
export function encodeChunk(data: Uint8Array): Uint8Array {
  const prefix = `${data.length.toString(16)}\r\n`;
  const out = new Uint8Array(prefix.length + data.length + 2);
  for (let i = 0; i < prefix.length; i++) out[i] = prefix.charCodeAt(i);
  out.set(data, prefix.length);
  out[out.length - 2] = CR;
  out[out.length - 1] = LF;
  return out;
}

/** The terminating zero-length chunk with no trailers. */
export const LAST_CHUNK: Uint8Array = new TextEncoder().encode("0\r\n\r\n");

/**
 * Serialize a request head from flat header pairs as a string of byte-valued chars (values are
 * ByteStrings, validated by the server that parsed them); `extra` is more header lines, each
 * ending in CRLF. {@linkcode BufferedConn.writeLatin1} turns it into bytes.
 */
export function requestHead(method: string, target: string, headers: readonly string[], extra = ""): string {
  let s = `${method} ${target} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${s}${extra}\r\n`;
}
