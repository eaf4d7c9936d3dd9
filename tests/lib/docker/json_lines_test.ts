import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { followJsonLines } from "../../../lib/docker/json_lines.ts";

Deno.test("followJsonLines() reassembles documents split across chunks and splits joined ones", async () => {
  const stream = new PassThrough();
  const seen: unknown[] = [];
  const done = followJsonLines(stream, (value) => seen.push(value));
  const bytes = new TextEncoder().encode('{"a":1}\n{"b":"\u00e9"}\n\n{"c":[1,2]}\n');
  // Split inside the two-byte "é" too: decoding must carry partial characters over.
  for (const [from, to] of [[0, 3], [3, 13], [13, 14], [14, bytes.length]]) {
    stream.write(bytes.slice(from, to));
  }
  stream.end();
  await done;
  assert.deepEqual(seen, [{ a: 1 }, { b: "\u00e9" }, { c: [1, 2] }]);
});

Deno.test("followJsonLines() rejects on a line that is not JSON and on a stream error", async () => {
  const bad = new PassThrough();
  const badDone = followJsonLines(bad, () => {});
  bad.write("{not json}\n");
  await assert.rejects(badDone, SyntaxError);

  const failing = new PassThrough();
  const failingDone = followJsonLines(failing, () => {});
  failing.destroy(new Error("socket hang up"));
  await assert.rejects(failingDone, /socket hang up/);
});
