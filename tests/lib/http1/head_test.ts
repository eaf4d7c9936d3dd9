import assert from "node:assert/strict";
import {
  CONNECTION_CLOSE,
  CONNECTION_KEEP_ALIVE,
  CONNECTION_UPGRADE,
  connectionFlags,
  connectionTokens,
  isToken,
  latin1,
  parseContentLength,
  parseField,
  pushField,
} from "../../../lib/http1/head.ts";
import { headEnd, parseResponseHead as parseHead } from "../../../lib/upstream/response_head.ts";
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

Deno.test("parseField() reads a name and a value with one whitespace rule for both sides", () => {
  assert.deepEqual(parseField("Content-Type: \t text/plain \t"), {
    name: "Content-Type",
    value: "text/plain",
  });
  assert.deepEqual(parseField("X-V: v\xa0"), { name: "X-V", value: "v\xa0" }, "NBSP is not whitespace");
  assert.deepEqual(parseField("X-Empty:"), { name: "X-Empty", value: "" });
  assert.equal(parseField(" folded"), "obsolete line folding");
  assert.equal(parseField("\tfolded"), "obsolete line folding");
  assert.equal(parseField(": no name"), "header line without a name");
  assert.equal(parseField("no colon"), "header line without a name");
  assert.equal(parseField("Host : x"), "invalid header name", "no whitespace before the colon");
  assert.equal(parseField("X-A: a\0b"), "invalid character in header value");
});

Deno.test("parseContentLength() accepts an agreeing list only where allowed", () => {
  assert.equal(parseContentLength("42", false), 42);
  assert.equal(parseContentLength("5, 5", true), 5);
  assert.equal(parseContentLength("5,5 ,\t5", true), 5);
  assert.equal(parseContentLength("5, 5", false), "invalid");
  assert.equal(parseContentLength("5, 6", true), "conflict");
  assert.equal(parseContentLength("5,", true), "invalid");
  assert.equal(parseContentLength("-1", true), "invalid");
  assert.equal(parseContentLength("0x5", true), "invalid");
  assert.equal(parseContentLength("1234567890123456", true), "invalid", "at most 15 digits");
});

Deno.test("connectionTokens() lower-cases and drops empty tokens", () => {
  assert.deepEqual(connectionTokens("Keep-Alive, ,Upgrade,\tX-Foo "), ["keep-alive", "upgrade", "x-foo"]);
  assert.deepEqual(connectionTokens(""), []);
});

Deno.test("parseHead() and parseRequestHead() trim a value alike: SP and HTAB, never a NBSP", () => {
  const res = bytes("HTTP/1.1 200 OK\r\nX-V: \tv", [0xa0], " \r\nContent-Length: 5, 5\r\n\r\n");
  const head = parseHead(res, headEnd(res, res.length));
  assert.ok(typeof head !== "string", String(head));
  assert.deepEqual(head.headers, ["X-V", "v\u00a0", "Content-Length", "5, 5"]);
  assert.equal(head.contentLength, 5);
  const req = bytes("GET / HTTP/1.1\r\nHost: a\r\nX-V: \tv", [0xa0], " \r\n");
  const parsed = parseRequestHead(req, 100);
  assert.ok("headers" in parsed, JSON.stringify(parsed));
  assert.equal(parsed.headers.get("x-v"), "v\u00a0");
});

Deno.test("connectionFlags() reads close, keep-alive and upgrade in any case, with OWS and empty entries", () => {
  assert.equal(connectionFlags("close"), CONNECTION_CLOSE);
  assert.equal(connectionFlags("Keep-Alive"), CONNECTION_KEEP_ALIVE);
  assert.equal(connectionFlags(" UPGRADE ,\tkeep-alive,,"), CONNECTION_UPGRADE | CONNECTION_KEEP_ALIVE);
  assert.equal(connectionFlags("x-close, closed, keep-alive2, upgrades"), 0, "whole tokens only");
  assert.equal(connectionFlags(""), 0);
  assert.equal(connectionFlags("c\u00ecose"), 0, "no case folding beyond ASCII");
  assert.equal(connectionFlags("keep\u000dalive"), 0, "only letters fold: CR is not a hyphen");
});

Deno.test("isToken() and pushField() read a slice of a string without slicing out the line", () => {
  assert.ok(isToken("xHost:", 1, 5));
  assert.ok(!isToken("Ho st", 0, 5));
  assert.ok(!isToken("H\u00e9", 0, 2));
  assert.ok(!isToken("abc", 1, 1), "empty");
  const out = ["kept"];
  assert.equal(pushField("GET\r\nX-A:  a b \r\nY: z", 5, 15, out), undefined);
  assert.deepEqual(out, ["kept", "X-A", "a b"]);
  assert.equal(pushField("X: a\rb", 0, 6, out), "invalid character in header value");
  assert.equal(pushField(" X: a", 0, 5, out), "invalid header name", "whitespace before a name with a colon");
  assert.equal(pushField("x\r\n: a", 3, 7, out), "header line without a name");
  assert.equal(
    pushField("x\r\n a\r\nB: c", 3, 5, out),
    "obsolete line folding",
    "the colon of a later line does not count",
  );
  assert.deepEqual(out, ["kept", "X-A", "a b"], "nothing pushed for a malformed line");
});

Deno.test("parseHead() and parseRequestHead() read a head in the middle of a buffer", () => {
  const res = bytes("junkHTTP/1.1 204 No Content\r\nConnection: Close\r\n\r\nnext");
  const size = headEnd(res, res.length, 0, 4);
  assert.equal(size, res.length - 8);
  const head = parseHead(res, size, 4);
  assert.ok(typeof head !== "string", String(head));
  assert.deepEqual([head.status, head.headers, head.close, head.size], [
    204,
    ["Connection", "Close"],
    true,
    size,
  ]);
  const req = bytes("xxGET /a HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nrest");
  const parsed = parseRequestHead(req, 100, 2, req.length - 4);
  assert.ok("headers" in parsed, JSON.stringify(parsed));
  assert.deepEqual([parsed.method, parsed.target, parsed.version, parsed.close], [
    "GET",
    "/a",
    "HTTP/1.0",
    false,
  ]);
  assert.deepEqual(parsed.headers.raw, ["Host", "h", "Connection", "keep-alive"]);
});

Deno.test("parseRequestHead() refuses a request line that is not exactly method SP target SP version", () => {
  const reject = (line: string) => {
    const r = parseRequestHead(bytes(`${line}\r\nHost: a\r\n`), 100);
    return "reason" in r ? `${r.status} ${r.reason}` : "ok";
  };
  assert.equal(reject("GET / HTTP/1.1"), "ok");
  assert.equal(reject("GET / HTTP/1.2"), "ok", "a later minor version is read as 1.1");
  for (
    const line of [
      "GET  / HTTP/1.1",
      "GET / HTTP/1.1 ",
      "GET /\ta HTTP/1.1",
      "G@T / HTTP/1.1",
      " / HTTP/1.1",
      "GET /",
      "GET / HTTP/1.11",
      "GET / HTTP/1.x",
      "GET / http/1.1",
    ]
  ) {
    assert.equal(reject(line), "400 malformed request line", JSON.stringify(line));
  }
  assert.equal(reject("GET / HTTP/0.9"), "400 HTTP/0.x");
  assert.equal(reject("GET / HTTP/2.0"), "505 HTTP/2.0 is not supported");
});
