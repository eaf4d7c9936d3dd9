import assert from "node:assert/strict";
import { hash32, rehash32 } from "../../algorithms/_hash.ts";

Deno.test("hash32() matches published MurmurHash3 x86_32 test vectors", () => {
  // Pinned: a change would remap every ip_hash client on upgrade, and replicas of different
  // releases would disagree.
  const vectors: [string, number, number][] = [
    ["", 0, 0],
    ["", 1, 0x514e28b7],
    ["", 0xffffffff, 0x81f16f39],
    ["test", 0, 0xba6bd213],
    ["Hello, world!", 0, 0xc0363e43],
    ["Hello, world!", 0x9747b28c, 0x24884cba],
    ["aaaa", 0x9747b28c, 0x5a97808a],
    ["The quick brown fox jumps over the lazy dog", 0, 0x2e4ff723],
  ];
  for (const [text, seed, expected] of vectors) {
    assert.equal(hash32(text, seed), expected, `"${text}" seed ${seed.toString(16)}`);
  }
});

Deno.test("hash32() hashes non-ASCII keys (header and cookie values) by their UTF-8 bytes", () => {
  const keys = ["é", "e", "è", "€", "😀", "user-ñ", "user-n"];
  const hashes = new Set(keys.map((k) => hash32(k, 7)));
  assert.equal(hashes.size, keys.length);
  // A lone surrogate encodes as U+FFFD (EF BF BD), like any UTF-8 encoder would send it.
  assert.equal(hash32("\ud800", 7), hash32("\ufffd", 7));
});

Deno.test("hash32() spreads consecutive addresses evenly over buckets", () => {
  const buckets = new Array(64).fill(0);
  for (let i = 0; i < 64_000; i++) buckets[hash32(`10.0.${i >> 8}.${i & 255}`, 3) % 64]++;
  // Each bucket expects 1000; six standard deviations is about 190.
  for (const count of buckets) assert.ok(Math.abs(count - 1000) < 190, `bucket of ${count}`);
});

Deno.test("rehash32() gives each attempt its own value, pinned across releases", () => {
  // Pinned like hash32: replicas must walk a key's preference list the same way.
  const h = hash32("203.0.113.7", 0x1b56c4e9);
  assert.deepEqual([h, rehash32(h, 1), rehash32(h, 2), rehash32(0, 1)], [
    3980616651,
    3975623275,
    1646851720,
    2462723854,
  ]);
  // 10,000 attempts of one key land in 10,000 distinct places, spread over 16 buckets within 10%.
  const values = Array.from({ length: 10_000 }, (_, i) => rehash32(h, i + 1));
  assert.equal(new Set(values).size, values.length);
  const buckets = new Array(16).fill(0);
  for (const v of values) buckets[v % 16]++;
  for (const count of buckets) assert.ok(Math.abs(count - 625) < 62.5, `${buckets}`);
});
