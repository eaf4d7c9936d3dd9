/**
 * A small, fast, deterministic string hash for consistent hashing.
 *
 * Every proxy replica must map a key to the same backend, so the hash depends only on the text
 * and a seed: no per-process randomness, no platform-dependent encoding (it reads UTF-16 code
 * units, which JavaScript defines exactly). The mixing is MurmurHash3's multiply-rotate step per
 * code unit and its `fmix32` finaliser, which spreads similar keys (consecutive IP addresses)
 * across all 32 bits. Not cryptographic: the keys are not secrets and collisions only merge two
 * clients onto one backend.
 *
 * @module
 */

/**
 * Hash `text` to an unsigned 32-bit integer.
 *
 * @param text the key
 * @param seed selects an independent hash function (Maglev needs several)
 * @example Usage
 * ```ts
 * import { hash32 } from "./_hash.ts";
 * hash32("203.0.113.7", 0) === hash32("203.0.113.7", 0); // true, in every process
 * ```
 */
export function hash32(text: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) {
    let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= text.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
