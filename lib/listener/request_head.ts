/**
 * Request heads for the public listener (RFC 9112): scanning, parsing and the framing decision.
 *
 * Strict where leniency lets one request hide inside another (request smuggling): a bare CR or LF
 * as a line end, obs-fold, whitespace before a colon, a repeated or non-numeric Content-Length,
 * Content-Length together with Transfer-Encoding, and several Host fields are refused with 400
 * rather than guessed at, as HAProxy and Envoy do by default.
 *
 * @module
 */

import {
  CONNECTION_CLOSE,
  CONNECTION_KEEP_ALIVE,
  connectionFlags,
  isToken,
  latin1,
  lineEnd,
  lowerName,
  parseContentLength,
  pushField,
} from "../http1/mod.ts";

/** Why a request was refused before it reached the handler. */
export interface Rejection {
  readonly status: 400 | 408 | 431 | 501 | 505;
  readonly reason: string;
}

/** A parsed request head with its framing decided. */
export interface RequestHead {
  readonly method: string;
  /** The request-target exactly as sent. */
  readonly target: string;
  readonly version: "HTTP/1.0" | "HTTP/1.1";
  readonly headers: RequestHeaders;
  /** Declared body length; undefined for chunked or no body. */
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
  /** The client asked to close after this exchange (or spoke HTTP/1.0 without keep-alive). */
  readonly close: boolean;
  /** `Expect: 100-continue`: the client waits for a 100 before sending the body. */
  readonly expectContinue: boolean;
}

/**
 * Header fields of a request, read like `Headers` (case-insensitive `get`, repeats joined with
 * ", ", lower-case names when iterated) without the cost of building one.
 */
export class RequestHeaders implements Iterable<[string, string]> {
  /** Flat `[name, value, ...]` as sent: original case, values without surrounding whitespace. */
  readonly raw: readonly string[];
  /** Each field's name in lower case, one per pair of `raw` (`lower[i]` names `raw[2 * i]`). */
  readonly lower: readonly string[];
  #entries: [string, string][] | undefined;

  constructor(raw: readonly string[], lower: readonly string[]) {
    this.raw = raw;
    this.lower = lower;
  }

  /** The field's value, repeats joined with ", "; null when absent. */
  get(name: string): string | null {
    const n = name.toLowerCase();
    const lower = this.lower;
    let out: string | null = null;
    for (let i = 0; i < lower.length; i++) {
      if (lower[i] === n) out = out === null ? this.raw[2 * i + 1] : `${out}, ${this.raw[2 * i + 1]}`;
    }
    return out;
  }

  /** Whether the field is present. */
  has(name: string): boolean {
    return this.lower.includes(name.toLowerCase());
  }

  /** `[lower-case name, value]` per field name, repeats joined, in order of first appearance. */
  [Symbol.iterator](): Iterator<[string, string]> {
    if (!this.#entries) {
      const lower = this.lower;
      const entries: [string, string][] = [];
      for (let i = 0; i < lower.length; i++) {
        const first = lower.indexOf(lower[i]);
        if (first === i) entries.push([lower[i], this.raw[2 * i + 1]]);
        else entries.find((e) => e[0] === lower[i])![1] += `, ${this.raw[2 * i + 1]}`;
      }
      this.#entries = entries;
    }
    return this.#entries[Symbol.iterator]();
  }
}

/**
 * Find the end of a request head in `buf[start:end]`, checking each byte once as it arrives.
 *
 * @param from offset (from `start`) already checked by an earlier call
 * @returns the head's length including the final CRLF CRLF; -1 when more bytes are needed; or a
 *   rejection for a bare CR or LF or a control character (HTAB aside), refused at once so a client
 *   cannot hold the connection with a head that can never be valid
 */
export function scanHead(buf: Uint8Array, start: number, end: number, from: number): number | Rejection {
  for (let i = start + from; i < end; i++) {
    const b = buf[i];
    if (b >= 0x20 && b !== 0x7f) continue;
    if (b === 0x0a) {
      if (i === start || buf[i - 1] !== 0x0d) return { status: 400, reason: "bare LF in request head" };
      if (i - start >= 3 && buf[i - 2] === 0x0a) return i + 1 - start;
    } else if (b === 0x0d) {
      if (i + 1 < end && buf[i + 1] !== 0x0a) return { status: 400, reason: "bare CR in request head" };
    } else if (b !== 0x09) {
      return { status: 400, reason: "control character in request head" };
    }
  }
  return -1;
}

const bad = (reason: string): Rejection => ({ status: 400, reason });

/** Whether `s[at:at+8]` is `HTTP/d.d`. */
function isVersion(s: string, at: number, end: number): boolean {
  const digit = (i: number) => s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;
  return end - at === 8 && s.startsWith("HTTP/", at) && digit(at + 5) && s.charCodeAt(at + 6) === 46 &&
    digit(at + 7);
}

/** The refusal of a head with more than `maxHeaders` fields. */
function tooMany(maxHeaders: number): Rejection {
  return { status: 431, reason: `more than ${maxHeaders} header fields` };
}

/**
 * `r`, unless the head has too many fields: that is refused before anything else is judged, so a
 * malformed field early in a head with too many gets the 431 too. `fields` counts the field lines
 * up to and including the one starting at `at`.
 */
function refuse(r: Rejection, text: string, at: number, fields: number, maxHeaders: number): Rejection {
  let lines = fields - 1;
  for (let from = at; from < text.length; from = lineEnd(text, from) + 2) lines++;
  return lines > maxHeaders ? tooMany(maxHeaders) : r;
}

/**
 * Parse a head found by {@linkcode scanHead}: `buf[start:end]`, without the final empty line's
 * CRLF. Method, target and fields are sliced from one decoded string: no array of lines, no regex
 * match, no object per field.
 *
 * @returns the head, or the rejection to answer with
 */
export function parseRequestHead(
  buf: Uint8Array,
  maxHeaders: number,
  start = 0,
  end = buf.length,
): RequestHead | Rejection {
  const text = latin1(buf, start, end);
  // request-line = method SP request-target SP HTTP-version (RFC 9112 section 3)
  const eol = lineEnd(text, 0);
  const sp1 = text.indexOf(" ");
  const sp2 = sp1 === -1 ? -1 : text.indexOf(" ", sp1 + 1);
  if (
    sp2 === -1 || sp2 >= eol || sp1 === sp2 - 1 || !isToken(text, 0, sp1) || !isVersion(text, sp2 + 1, eol)
  ) {
    return bad("malformed request line");
  }
  const tab = text.indexOf("\t");
  if (tab !== -1 && tab < sp2) return bad("malformed request line");
  // RFC 9110 section 2.5: a later 1.x minor version is answered as 1.1; another major is refused.
  const major = text.charCodeAt(sp2 + 6);
  if (major !== 49) {
    return major === 48
      ? bad("HTTP/0.x")
      : { status: 505, reason: `${text.slice(sp2 + 1, eol)} is not supported` };
  }
  const version = text.charCodeAt(sp2 + 8) === 48 ? "HTTP/1.0" : "HTTP/1.1";
  let fields = 0;
  const raw: string[] = [];
  const lower: string[] = [];
  let hosts = 0;
  let contentLength: number | undefined;
  let transferEncoding: string | undefined;
  let close = version === "HTTP/1.0";
  let expectContinue = false;
  for (let at = eol + 2, next; at < text.length; at = next + 2) {
    if (++fields > maxHeaders) return tooMany(maxHeaders);
    next = lineEnd(text, at);
    const problem = pushField(text, at, next, raw);
    if (problem) return refuse(bad(problem), text, at, fields, maxHeaders);
    const value = raw[raw.length - 1];
    const key = lowerName(raw[raw.length - 2]);
    lower.push(key);
    switch (key) {
      case "host":
        hosts++;
        break;
      case "content-length": {
        if (contentLength !== undefined) {
          return refuse(bad("repeated Content-Length"), text, at, fields, maxHeaders);
        }
        // One value only: a list, even an agreeing one, is refused on the public side.
        const length = parseContentLength(value, false);
        if (typeof length !== "number") {
          return refuse(bad("invalid Content-Length"), text, at, fields, maxHeaders);
        }
        contentLength = length;
        break;
      }
      case "transfer-encoding":
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        break;
      case "connection": {
        const flags = connectionFlags(value);
        if (flags & CONNECTION_CLOSE) close = true;
        else if (flags & CONNECTION_KEEP_ALIVE && version === "HTTP/1.0") close = false;
        break;
      }
      case "expect":
        expectContinue = value.toLowerCase() === "100-continue";
        break;
    }
  }
  // RFC 9112 section 3.2: exactly one Host in HTTP/1.1.
  if (version === "HTTP/1.1" && hosts !== 1) return bad(hosts ? "several Host fields" : "no Host field");
  if (hosts > 1) return bad("several Host fields");
  let chunked = false;
  if (transferEncoding !== undefined) {
    // RFC 9112 section 6.1: refuse both framings and Transfer-Encoding in HTTP/1.0 rather than
    // pick one, since the next hop might pick the other.
    if (contentLength !== undefined) return bad("both Content-Length and Transfer-Encoding");
    if (version === "HTTP/1.0") return bad("Transfer-Encoding in HTTP/1.0");
    if (transferEncoding.toLowerCase() !== "chunked") {
      return { status: 501, reason: `Transfer-Encoding ${transferEncoding} is not supported` };
    }
    chunked = true;
  }
  return {
    method: text.slice(0, sp1),
    target: text.slice(sp1 + 1, sp2),
    version,
    headers: new RequestHeaders(raw, lower),
    contentLength: contentLength === 0 ? undefined : contentLength,
    chunked,
    close,
    expectContinue,
  };
}
