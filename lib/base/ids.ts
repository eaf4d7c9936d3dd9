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
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A source of random hex ids; one per owner (the proxy handler), never shared module state. */
export class RandomIds {
  readonly #bytes = new Uint8Array(BLOCK);
  #used = BLOCK;

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
    for (;;) {
      if (this.#used + bytes > BLOCK) {
        crypto.getRandomValues(this.#bytes);
        this.#used = 0;
      }
      let s = "";
      let zero = true;
      const b = this.#bytes;
      for (let i = this.#used, end = this.#used + bytes; i < end; i++) {
        s += HEX[b[i]];
        if (b[i] !== 0) zero = false;
      }
      this.#used += bytes;
      if (!zero) return s;
    }
  }
}
