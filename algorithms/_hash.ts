/**
 * MurmurHash3 (x86, 32-bit; Austin Appleby, public domain) of a string's UTF-8 bytes: a small,
 * fast, deterministic hash for consistent hashing.
 *
 * Every proxy replica, of any release, must map a key to the same backend, so the hash depends
 * only on the text and a seed: no per-process randomness. Using a standard function over UTF-8
 * means another implementation (a sidecar, a script checking placement) can reproduce it.
 * Not cryptographic: keys are not secrets and a collision only merges two clients' backends.
 *
 * @module
 */

const UTF8 = new TextEncoder();

/**
 * Hash `text` to an unsigned 32-bit integer.
 *
 * @param text the key; ASCII is hashed without allocating
 * @param seed selects an independent hash function (Maglev needs several)
 * @example Usage
 * ```ts
 * import { hash32 } from "./_hash.ts";
 * hash32("The quick brown fox jumps over the lazy dog", 0).toString(16); // "2e4ff723"
 * ```
 */
export function hash32(text: string, seed: number): number {
  // One byte per char: ASCII as is, anything else through its UTF-8 bytes.
  // deno-lint-ignore no-control-regex
  const bytes = /^[\x00-\x7f]*$/.test(text) ? text : String.fromCharCode(...UTF8.encode(text));
  const length = bytes.length;
  const blocks = length & ~3;
  let h = seed | 0;
  for (let i = 0; i < blocks; i += 4) {
    const k = bytes.charCodeAt(i) | (bytes.charCodeAt(i + 1) << 8) | (bytes.charCodeAt(i + 2) << 16) |
      (bytes.charCodeAt(i + 3) << 24);
    h ^= scramble(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (length & 3) {
    case 3:
      k ^= bytes.charCodeAt(blocks + 2) << 16;
    // falls through
    case 2:
      k ^= bytes.charCodeAt(blocks + 1) << 8;
    // falls through
    case 1:
      k ^= bytes.charCodeAt(blocks);
      h ^= scramble(k);
  }
  return fmix32(h ^ length);
}

function scramble(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

/**
 * The `attempt`-th alternative of an existing hash: Murmur3's 32-bit finaliser (fmix32) over the
 * hash plus `attempt` times the golden-ratio constant, so each attempt is an independent-looking
 * value and no string is hashed again. `ip_hash` uses it to find the next backend for a key whose
 * own backend may not take the request.
 *
 * @example Usage
 * ```ts
 * import { hash32, rehash32 } from "./_hash.ts";
 * const h = hash32("203.0.113.7", 1);
 * rehash32(h, 1) !== rehash32(h, 2); // true
 * ```
 */
export function rehash32(hash: number, attempt: number): number {
  return fmix32((hash + Math.imul(attempt, 0x9e3779b9)) | 0);
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
