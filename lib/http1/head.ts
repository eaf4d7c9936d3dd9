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

/** RFC 9110 section 5.6.2 token: what field names (and methods) are made of. */
export const TOKEN: RegExp = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

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

/** The lines of a head `buf[start:end]` (without its final empty line), split at CRLF. */
export function headLines(buf: Uint8Array, start: number, end: number): string[] {
  return latin1(buf, start, end).split("\r\n");
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

const FORBIDDEN_IN_VALUE = /[\0\r\n]/;
const DIGITS = /^\d{1,15}$/;

/**
 * Read one field line (`Name: value`).
 *
 * @returns the field, or why it is malformed: a line starting with whitespace is obs-fold
 *   (RFC 9112 section 5.2), whitespace before the colon makes an invalid name (section 5.1)
 * @example
 * ```ts
 * import { parseField } from "./head.ts";
 * parseField("Content-Type:  text/plain "); // { name: "Content-Type", value: "text/plain" }
 * parseField("Host : x"); // "invalid header name"
 * ```
 */
export function parseField(line: string): Field | FieldError {
  const colon = line.indexOf(":");
  if (colon <= 0) {
    const first = line.charCodeAt(0);
    return first === 32 || first === 9 ? "obsolete line folding" : "header line without a name";
  }
  const name = line.slice(0, colon);
  if (!TOKEN.test(name)) return "invalid header name";
  const value = trimOws(line.slice(colon + 1));
  if (FORBIDDEN_IN_VALUE.test(value)) return "invalid character in header value";
  return { name, value };
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

/** The comma-separated tokens of a `Connection` value, lower case, without empty ones. */
export function connectionTokens(value: string): string[] {
  const out: string[] = [];
  for (const t of value.split(",")) {
    const token = trimOws(t).toLowerCase();
    if (token) out.push(token);
  }
  return out;
}
