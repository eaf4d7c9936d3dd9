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
  connectionTokens,
  headLines,
  parseContentLength,
  parseField,
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

/** Index just past the CRLFCRLF ending the head in `buf[0:len]`, or -1 when not complete yet. */
export function headEnd(buf: Uint8Array, len: number, from = 0): number {
  for (let i = Math.max(3, from); i < len; i++) {
    if (buf[i] === LF && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
  }
  return -1;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;

/**
 * Parse a response head ending at `end` (from {@linkcode headEnd}).
 *
 * @returns the head, or an error message naming what was malformed.
 */
export function parseResponseHead(buf: Uint8Array, end: number): ResponseHead | string {
  const lines = headLines(buf, 0, end - 4);
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
    const field = parseField(lines[i]);
    if (typeof field === "string") {
      return `malformed header line ${JSON.stringify(lines[i].slice(0, 80))}: ${field}`;
    }
    const { name, value } = field;
    headers.push(name, value);
    switch (name.toLowerCase()) {
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
        const tokens = connectionTokens(value);
        if (tokens.includes("close")) close = true;
        else if (minor === "0" && tokens.includes("keep-alive")) close = false;
        break;
      }
    }
  }
  return { status, headers, size: end, close, contentLength, chunked, transferEncoding };
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
