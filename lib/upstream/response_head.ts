/**
 * Response heads from backends (RFC 9112): finding the head's end, parsing it with the shared
 * tokenizer (lib/http1/head.ts), and the body-length rules of RFC 9112 section 6.3.
 *
 * Strict where laxness enables response splitting or desync (bare LF in the status line,
 * obs-fold, conflicting Content-Length): such a response is refused instead of guessed at. The
 * parsed framing, not a header string, is what the client's response is framed by.
 *
 * @module
 */

import {
  type BodyFraming,
  CONNECTION_CLOSE,
  CONNECTION_KEEP_ALIVE,
  connectionFlags,
  connectionTokens,
  latin1,
  lineEnd,
  lowerName,
  parseContentLength,
  pushField,
} from "../http1/mod.ts";

/** A parsed response head. */
export interface ResponseHead {
  readonly status: number;
  /** Header pairs flattened (`[name, value, name, value, ...]`), original case, in order. */
  readonly headers: string[];
  /** Bytes of the head including the final CRLF CRLF. */
  readonly size: number;
  /** The server asked to close the connection (or spoke HTTP/1.0 without keep-alive). */
  readonly close: boolean;
  /** `Content-Length` when present and valid (an agreeing list such as `5, 5` reads as 5). */
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

/**
 * The length of the head that starts at `start` in `buf[0:end]`, up to and including its
 * CRLFCRLF; -1 when it is not complete yet.
 *
 * @param from bytes after `start` already searched by an earlier call
 */
export function headEnd(buf: Uint8Array, end: number, from = 0, start = 0): number {
  for (let i = start + Math.max(3, from); i < end; i++) {
    if (buf[i] === LF && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1 - start;
  }
  return -1;
}

/** `HTTP/1.x NNN` and then the end of the line or a space and a reason (RFC 9112 section 4). */
function statusOf(line: string, end: number): { minor: number; status: number } | undefined {
  if (end < 12 || !line.startsWith("HTTP/1.", 0) || line.charCodeAt(8) !== 32) return undefined;
  const minor = line.charCodeAt(7) - 48;
  if (minor !== 0 && minor !== 1) return undefined;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    status = status * 10 + d;
  }
  if (end > 12 && line.charCodeAt(12) !== 32) return undefined;
  for (let i = 13; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c === 13 || c === 10) return undefined;
  }
  return { minor, status };
}

/**
 * Parse a response head of `size` bytes (from {@linkcode headEnd}) starting at `start` in `buf`.
 * Names and values are sliced from one decoded string: no array of lines, no object per field.
 *
 * @returns the head, or an error message naming what was malformed.
 */
export function parseResponseHead(buf: Uint8Array, size: number, start = 0): ResponseHead | string {
  const text = latin1(buf, start, start + size - 4);
  let eol = lineEnd(text, 0);
  const line = statusOf(text, eol);
  if (!line) return `malformed status line ${JSON.stringify(text.slice(0, Math.min(eol, 80)))}`;
  const { minor, status } = line;
  const headers: string[] = [];
  let close = minor === 0;
  let contentLength: number | undefined;
  let chunked = false;
  let transferEncoding = false;
  for (let at = eol + 2; at < text.length; at = eol + 2) {
    eol = lineEnd(text, at);
    const problem = pushField(text, at, eol, headers);
    if (problem) {
      return `malformed header line ${JSON.stringify(text.slice(at, Math.min(eol, at + 80)))}: ${problem}`;
    }
    const name = headers[headers.length - 2];
    // Only three names matter here; lower-case only names of their lengths.
    const n = name.length;
    if (n !== 10 && n !== 14 && n !== 17) continue;
    const value = headers[headers.length - 1];
    switch (lowerName(name)) {
      case "content-length": {
        // Repeated or comma-listed values must agree (RFC 9110 section 8.6); otherwise the length is ambiguous.
        const length = parseContentLength(value, true);
        if (length === "invalid") return `invalid Content-Length ${JSON.stringify(value)}`;
        if (length === "conflict" || (contentLength !== undefined && length !== contentLength)) {
          return "conflicting Content-Length values";
        }
        contentLength = length;
        break;
      }
      case "transfer-encoding": {
        transferEncoding = true;
        chunked = connectionTokens(value).at(-1) === "chunked";
        break;
      }
      case "connection": {
        const flags = connectionFlags(value);
        if (flags & CONNECTION_CLOSE) close = true;
        else if (minor === 0 && flags & CONNECTION_KEEP_ALIVE) close = false;
        break;
      }
    }
  }
  return { status, headers, size, close, contentLength, chunked, transferEncoding };
}

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

/**
 * The length the client's response declares: the body's own for a length-delimited body; for a
 * body not sent (HEAD, 304) the representation's, when the backend gave one without chunking.
 */
export function declaredLength(framing: BodyFraming, head: ResponseHead): number | undefined {
  if (framing.kind === "length") return framing.length;
  if (framing.kind === "none" && !head.transferEncoding && head.status !== 204 && head.status >= 200) {
    return head.contentLength;
  }
  return undefined;
}
