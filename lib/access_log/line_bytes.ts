/**
 * An access-log line built as bytes, with the two formats' escapes: what the formats write into,
 * so a logged request costs no string per field, no concatenated line and no encoding pass (a
 * line built as a string was a rope of some forty pieces, flattened when the batch was joined and
 * then encoded: about a third of what logging added to a proxied request, docs/performance.md).
 *
 * Only ASCII is ever written: the escapes turn everything else into `\u00XX` or `\xHH`, so one
 * character is one byte.
 *
 * @module
 */

const HEX = "0123456789abcdef";
/** A module constant called as a known function: the fields are strings of many representations (see lib/http1/buffered_conn.ts). */
const charCodeAt = String.prototype.charCodeAt;

/** A growable buffer of ASCII bytes; see the module documentation. */
export class LineBytes {
  #buf: Uint8Array<ArrayBuffer>;
  /** Bytes written so far. */
  length = 0;

  /** @param size starting capacity in bytes; it doubles as needed */
  constructor(size = 512) {
    this.#buf = new Uint8Array(size);
  }

  /** The bytes written so far: a view, valid until the next write. */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }

  /** Drop what was written after the first `n` bytes. */
  truncate(n: number): void {
    if (n < this.length) this.length = n;
  }

  /** The bytes as a string (for tests and callers that want text). */
  toString(): string {
    let s = "";
    for (let i = 0; i < this.length; i += 4096) {
      s += String.fromCharCode(...this.#buf.subarray(i, Math.min(this.length, i + 4096)));
    }
    return s;
  }

  /** Append `s`, whose characters the caller knows to be ASCII needing no escape. */
  ascii(part: string): void {
    // `"" + part` is `part` itself, typed as a string, so its length is read without a lookup.
    const s = "" + part;
    const n = s.length;
    const at = this.#room(n);
    const buf = this.#buf;
    for (let i = 0; i < n; i++) buf[at + i] = charCodeAt.call(s, i);
    this.length = at + n;
  }

  /** Append a non-negative integer's decimal digits (any other number as `String` writes it). */
  uint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) return this.ascii(String(n));
    let digits = 1;
    for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
    const at = this.#room(digits);
    const buf = this.#buf;
    for (let i = at + digits - 1, v = n; i >= at; i--, v = Math.floor(v / 10)) buf[i] = 0x30 + (v % 10);
    this.length = at + digits;
  }

  /** Append one byte. */
  byte(b: number): void {
    const at = this.#room(1);
    this.#buf[at] = b;
    this.length = at + 1;
  }

  /** Append `s` as a JSON string literal: `"` and `\` escaped, controls and non-ASCII as `\u00XX`. */
  json(s: string): void {
    this.byte(0x22);
    this.#escaped(s, true);
    this.byte(0x22);
  }

  /** Append `s` for the combined format: `"`, `\`, controls and non-ASCII as `\xHH` (`\uHHHH` above 0xff), as NGINX does. */
  clf(s: string): void {
    this.#escaped(s, false);
  }

  /**
   * Append `s`, copied in one pass while its characters need no escape (nearly always to its
   * end), the rest escaped for JSON (`json`) or the combined format.
   */
  #escaped(part: string, json: boolean): void {
    const s = "" + part;
    const n = s.length;
    let at = this.#room(n);
    const buf = this.#buf;
    let i = 0;
    for (; i < n; i++) {
      const c = charCodeAt.call(s, i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) break;
      buf[at++] = c;
    }
    this.length = at;
    for (; i < n; i++) {
      const c = charCodeAt.call(s, i);
      if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) this.byte(c);
      else if (json && (c === 0x22 || c === 0x5c)) this.byte(0x5c), this.byte(c);
      else if (json || c > 0xff) this.#hex(0x75, c, 4);
      else this.#hex(0x78, c, 2);
    }
  }

  /** `\` then `letter` then `c` in `digits` lower-case hex digits. */
  #hex(letter: number, c: number, digits: number): void {
    this.byte(0x5c);
    this.byte(letter);
    for (let shift = (digits - 1) * 4; shift >= 0; shift -= 4) this.byte(HEX.charCodeAt((c >> shift) & 15));
  }

  /** Make room for `n` more bytes; returns where they go. */
  #room(n: number): number {
    const at = this.length;
    if (at + n > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(at + n, this.#buf.length * 2));
      bigger.set(this.#buf.subarray(0, at));
      this.#buf = bigger;
    }
    return at;
  }
}
