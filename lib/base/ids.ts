/**
 * Random identifiers in lower-case hex: W3C trace and span ids and request ids.
 *
 * Every proxied request needs at least one (a span id for `traceparent`), so they are cut from a
 * block of random bytes that is refilled with one `crypto.getRandomValues` call per 4 KiB instead of
 * one call per id; the bytes are as random as the runtime's CSPRNG (W3C Trace Context section 3.2.2.3
 * asks for randomness, not secrecy).
 *
 * @module
 */

const BLOCK = 4096;
/** Char codes of the hex digits `0-9a-f`. */
const DIGITS = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
const DASH = 45;
/** Where a UUID's 16 bytes go among its 36 chars (RFC 9562 section 4: 8-4-4-4-12). */
const UUID_DASHES = [8, 13, 18, 23];

/** A source of random hex ids; one per owner (the proxy handler), never shared module state. */
export class RandomIds {
  readonly #bytes = new Uint8Array(BLOCK);
  #used = BLOCK;
  /**
   * Char codes of the id being built, one reused array per length: the id is then made as one
   * string by `String.fromCharCode`, where adding two-digit strings made a rope of one string per
   * byte (about 0.7 KB of garbage for a request's trace and span ids).
   */
  readonly #codes = new Map<number, number[]>();

  /** `n` fresh random bytes from the block, as the offset of the first. */
  #take(n: number): number {
    if (this.#used + n > BLOCK) {
      crypto.getRandomValues(this.#bytes);
      this.#used = 0;
    }
    const at = this.#used;
    this.#used += n;
    return at;
  }

  #codesOf(length: number): number[] {
    let codes = this.#codes.get(length);
    if (!codes) this.#codes.set(length, codes = new Array<number>(length).fill(0));
    return codes;
  }

  /**
   * `bytes` random bytes as 2 x `bytes` hex digits, never all zeros (an all-zero trace or span id is
   * invalid, W3C Trace Context section 3.2.2.3-4).
   *
   * @example
   * ```ts
   * import { RandomIds } from "./ids.ts";
   * new RandomIds().hex(8); // e.g. "b7ad6b7169203331"
   * ```
   */
  hex(bytes: number): string {
    const codes = this.#codesOf(2 * bytes);
    const b = this.#bytes;
    for (;;) {
      const at = this.#take(bytes);
      let zero = true;
      for (let i = 0; i < bytes; i++) {
        const x = b[at + i];
        codes[2 * i] = DIGITS[x >> 4];
        codes[2 * i + 1] = DIGITS[x & 15];
        if (x !== 0) zero = false;
      }
      if (!zero) return String.fromCharCode.apply(null, codes);
    }
  }

  /**
   * A random (version 4) UUID in lower case, as `crypto.randomUUID()` makes one (RFC 9562 section
   * 5.4), from the same block of random bytes: a request id for every request that came without
   * one, at a fraction of the cost of a call into the runtime per request.
   *
   * @example
   * ```ts
   * import { RandomIds } from "./ids.ts";
   * new RandomIds().uuid(); // e.g. "a30913d7-f1aa-480c-8871-65b04bfc8c89"
   * ```
   */
  uuid(): string {
    const codes = this.#codesOf(36);
    const b = this.#bytes;
    const at = this.#take(16);
    let c = 0;
    for (let i = 0; i < 16; i++) {
      if (c === UUID_DASHES[0] || c === UUID_DASHES[1] || c === UUID_DASHES[2] || c === UUID_DASHES[3]) {
        codes[c++] = DASH;
      }
      // The version (4) in the high nibble of byte 6, the variant (binary 10) in the top bits of byte 8.
      const x = i === 6 ? (b[at + i] & 0x0f) | 0x40 : i === 8 ? (b[at + i] & 0x3f) | 0x80 : b[at + i];
      codes[c++] = DIGITS[x >> 4];
      codes[c++] = DIGITS[x & 15];
    }
    return String.fromCharCode.apply(null, codes);
  }
}
