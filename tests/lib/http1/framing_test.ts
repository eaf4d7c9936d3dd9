import assert from "node:assert/strict";
import { headEnd, latin1, parseHead } from "../../../lib/http1/framing.ts";
import { parseRequestHead } from "../../../lib/listener/request_head.ts";

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p));

Deno.test("latin1() maps each byte to one char, ASCII or not, within the range asked", () => {
  assert.equal(latin1(bytes("hello"), 0, 5), "hello");
  assert.equal(latin1(bytes("xhellox"), 1, 6), "hello");
  // 0xE9 is not valid UTF-8 on its own: a UTF-8 decoder would turn it into U+FFFD.
  assert.equal(latin1(bytes("caf", [0xe9]), 0, 4), "caf\u00e9");
  assert.equal(latin1(bytes([0x80, 0xff, 0x41]), 0, 3), "\u0080\u00ffA");
  assert.equal(latin1(bytes("ab", [0xc3, 0xa9]), 1, 4), "b\u00c3\u00a9"); // UTF-8 bytes stay two chars
  assert.equal(latin1(new Uint8Array(), 0, 0), "");
});

Deno.test("latin1() decodes heads longer than one 8 KiB slice, with a non-ASCII byte after it", () => {
  const long = new Uint8Array(20_000).fill(0x61);
  long[19_000] = 0xfe;
  const s = latin1(long, 0, long.length);
  assert.equal(s.length, 20_000);
  assert.equal(s.charCodeAt(19_000), 0xfe);
  assert.equal(s.charCodeAt(8_192), 0x61);
  assert.equal(latin1(long, 100, 8_300), "a".repeat(8_200));
});

Deno.test("parseHead() and parseRequestHead() keep obs-text bytes in values as one char per byte", () => {
  const res = bytes("HTTP/1.1 200 OK\r\nX-Name: caf", [0xe9], "\r\nContent-Length: 0\r\n\r\n");
  const head = parseHead(res, headEnd(res, res.length));
  assert.ok(typeof head !== "string", String(head));
  assert.deepEqual(head.headers, ["X-Name", "caf\u00e9", "Content-Length", "0"]);

  const req = bytes("GET / HTTP/1.1\r\nHost: a\r\nX-Name: ", [0xff, 0x80], "\r\n");
  const parsed = parseRequestHead(req, 100);
  assert.ok("headers" in parsed, JSON.stringify(parsed));
  assert.equal(parsed.headers.get("x-name"), "\u00ff\u0080");
});
