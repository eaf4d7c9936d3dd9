import assert from "node:assert/strict";
import { linePieces } from "../../../lib/access_log/mod.ts";

const text = (pieces: Uint8Array[]) => pieces.map((p) => new TextDecoder().decode(p));

Deno.test("linePieces cuts a batch at line ends into pieces of at most max bytes", () => {
  const data = new TextEncoder().encode("aa\nbb\ncc\n");
  assert.deepEqual(text(linePieces(data, 6)), ["aa\nbb\n", "cc\n"]);
  assert.deepEqual(text(linePieces(data, 5)), ["aa\n", "bb\n", "cc\n"]);
  assert.deepEqual(text(linePieces(data, 9)), ["aa\nbb\ncc\n"]);
  assert.deepEqual(linePieces(new Uint8Array(), 4), []);
});

Deno.test("linePieces gives a line longer than max a piece of its own, never splitting it", () => {
  const data = new TextEncoder().encode("a\nbbbbbbbb\nc\n");
  assert.deepEqual(text(linePieces(data, 4)), ["a\n", "bbbbbbbb\n", "c\n"]);
  // 4 KiB pieces of a real batch: every piece whole lines, together the whole batch.
  const lines = Array.from({ length: 500 }, (_, i) => `{"n":${i},"pad":"${"x".repeat(i % 90)}"}`);
  const batch = new TextEncoder().encode(`${lines.join("\n")}\n`);
  const pieces = linePieces(batch, 4096);
  assert.ok(pieces.length > 1 && pieces.every((p) => p.length <= 4096 && p.at(-1) === 10));
  assert.equal(text(pieces).join(""), `${lines.join("\n")}\n`);
});
