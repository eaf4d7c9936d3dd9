import assert from "node:assert/strict";
import { RandomIds } from "../../../lib/base/ids.ts";

Deno.test("RandomIds.hex() gives 2 x n lower-case hex digits, fresh each time", () => {
  const ids = new RandomIds();
  const seen = new Set<string>();
  // More than one 4 KiB block of random bytes, so the refill is crossed.
  for (let i = 0; i < 1000; i++) {
    const span = ids.hex(8);
    const trace = ids.hex(16);
    assert.match(span, /^[0-9a-f]{16}$/);
    assert.match(trace, /^[0-9a-f]{32}$/);
    assert.notEqual(span, "0".repeat(16));
    seen.add(span), seen.add(trace);
  }
  assert.equal(seen.size, 2000);
});

Deno.test("RandomIds.uuid() gives version 4 UUIDs (RFC 9562) with random bits spread over every digit", () => {
  const ids = new RandomIds();
  const seen = new Set<string>();
  const digits = Array.from({ length: 36 }, () => new Set<string>());
  for (let i = 0; i < 2000; i++) {
    const id = ids.uuid();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
    for (let c = 0; c < 36; c++) digits[c].add(id[c]);
  }
  assert.equal(seen.size, 2000);
  // Every free position takes all 16 digits over 2000 draws; the fixed ones keep their value.
  for (let c = 0; c < 36; c++) {
    const expected = [8, 13, 18, 23].includes(c) ? 1 : c === 14 ? 1 : c === 19 ? 4 : 16;
    assert.equal(digits[c].size, expected, `position ${c}`);
  }
});
