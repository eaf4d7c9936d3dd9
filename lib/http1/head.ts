/**
 * The HTTP/1.1 head tokenizer both sides share (RFC 9112 section 5, RFC 9110 section 5): bytes
 * to lines, a field line to its name and value, and the few fields whose values decide framing.
 *
 * Request heads (lib/listener/request_head.ts) and response heads
 * (lib/upstream/response_head.ts) differ in their first line and in what they refuse, not in how
 * a field line reads: one rule for names (a token, no whitespace before the colon), one for
 * optional whitespace (SP and HTAB only, so a latin-1 NBSP at the end of a value is kept), one for
 * characters a value may not carry (CR, LF, NUL: they would split or truncate the message at the
 * next hop).
 *
 * @module
 */

import { fieldName } from "./field_names.ts";

const DECODER = new TextDecoder();

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
  return DECODER.decode(buf.subarray(start, end));
}

/** Trim optional whitespace (SP and HTAB only: `String.trim` would also eat a latin-1 NBSP). */
export function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** One field line read: its name as sent and its value without surrounding whitespace. */
export interface Field {
  readonly name: string;
  readonly value: string;
}

/** Why a field line cannot be read. */
export type FieldError =
  | "obsolete line folding"
  | "header line without a name"
  | "invalid header name"
  | "invalid character in header value";

const DIGITS = /^\d{1,15}$/;

/** Token characters (RFC 9110 section 5.6.2) by char code, for names checked without a regex or a slice. */
const TOKEN_CHARS = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN_CHARS[c.charCodeAt(0)] = 1;
}

/** Whether `s[start:end]` is a non-empty token. */
export function isToken(s: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

/**
 * Read the field line `s[start:end]` (`Name: value`) and push its name and value onto `out`, sliced
 * from `s` once each: no line string, no field object, no regex (a head is parsed per request).
 *
 * @returns undefined, or why the line is malformed (then `out` is unchanged): a line starting with
 *   whitespace is obs-fold (RFC 9112 section 5.2), whitespace before the colon makes an invalid name
 *   (section 5.1), CR, LF or NUL in a value would split or truncate the message at the next hop
 */
export function pushField(s: string, start: number, end: number, out: string[]): FieldError | undefined {
  // One pass over the name's token characters up to the colon; anything else is sorted out below.
  let colon = start;
  while (colon < end) {
    const c = s.charCodeAt(colon);
    if (c >= 128 || TOKEN_CHARS[c] === 0) break;
    colon++;
  }
  if (colon === start || colon === end || s.charCodeAt(colon) !== 58) return fieldProblem(s, start, end);
  let a = colon + 1;
  let b = end;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 10 || c === 13) return "invalid character in header value";
  }
  out.push(fieldName(s, start, colon), s.slice(a, b));
  return undefined;
}

/** Why the field line `s[start:end]` has no valid name before a colon. */
function fieldProblem(s: string, start: number, end: number): FieldError {
  let colon = s.indexOf(":", start);
  if (colon >= end) colon = -1;
  if (colon <= start) {
    const first = s.charCodeAt(start);
    return colon === -1 && (first === 32 || first === 9)
      ? "obsolete line folding"
      : "header line without a name";
  }
  return "invalid header name";
}

/**
 * Read one field line (`Name: value`).
 *
 * @returns the field, or why it is malformed (see {@linkcode pushField})
 * @example
 * ```ts
 * import { parseField } from "./head.ts";
 * parseField("Content-Type:  text/plain "); // { name: "Content-Type", value: "text/plain" }
 * parseField("Host : x"); // "invalid header name"
 * ```
 */
export function parseField(line: string): Field | FieldError {
  const out: string[] = [];
  return pushField(line, 0, line.length, out) ?? { name: out[0], value: out[1] };
}

/** The index of the CRLF ending the line that starts at `from` in `s`, or `s.length` for the last line. */
export function lineEnd(s: string, from: number): number {
  const i = s.indexOf("\r\n", from);
  return i === -1 ? s.length : i;
}

/**
 * A `Content-Length` value: one decimal number, or with `allowList` a comma-separated list of
 * equal ones (RFC 9110 section 8.6 lets a recipient accept `5, 5`).
 *
 * @returns the length; `"invalid"` for anything else; `"conflict"` for a list that disagrees
 */
export function parseContentLength(value: string, allowList: boolean): number | "invalid" | "conflict" {
  if (DIGITS.test(value)) return Number(value);
  if (!allowList || !value.includes(",")) return "invalid";
  let length: number | undefined;
  for (const part of value.split(",")) {
    const v = trimOws(part);
    if (!DIGITS.test(v)) return "invalid";
    if (length !== undefined && Number(v) !== length) return "conflict";
    length = Number(v);
  }
  return length ?? "invalid";
}

/** {@linkcode connectionFlags}: the value names `close`. */
export const CONNECTION_CLOSE = 1;
/** {@linkcode connectionFlags}: the value names `keep-alive`. */
export const CONNECTION_KEEP_ALIVE = 2;
/** {@linkcode connectionFlags}: the value names `upgrade`. */
export const CONNECTION_UPGRADE = 4;

/** Whether `s[start:end]` equals the lower-case `word` ignoring ASCII case. */
function sameWord(s: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    const c = s.charCodeAt(start + i);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Which of `close`, `keep-alive` and `upgrade` a `Connection` value names, as bits, read in place
 * (every response from a keep-alive backend carries the field, so this runs per request).
 *
 * @example
 * ```ts
 * import { CONNECTION_CLOSE, connectionFlags } from "./head.ts";
 * (connectionFlags("Keep-Alive, CLOSE") & CONNECTION_CLOSE) !== 0; // true
 * ```
 */
export function connectionFlags(value: string): number {
  let flags = 0;
  let i = 0;
  while (i <= value.length) {
    let comma = value.indexOf(",", i);
    if (comma === -1) comma = value.length;
    let a = i;
    let b = comma;
    while (a < b && (value.charCodeAt(a) === 32 || value.charCodeAt(a) === 9)) a++;
    while (b > a && (value.charCodeAt(b - 1) === 32 || value.charCodeAt(b - 1) === 9)) b--;
    if (sameWord(value, a, b, "close")) flags |= CONNECTION_CLOSE;
    else if (sameWord(value, a, b, "keep-alive")) flags |= CONNECTION_KEEP_ALIVE;
    else if (sameWord(value, a, b, "upgrade")) flags |= CONNECTION_UPGRADE;
    i = comma + 1;
  }
  return flags;
}

/** The comma-separated tokens of a `Connection` value, lower case, without empty ones. */
export function connectionTokens(value: string): string[] {
  const out: string[] = [];
  for (const t of value.split(",")) {
    const token = trimOws(t).toLowerCase();
    if (token) out.push(token);
  }
  return out;
}
