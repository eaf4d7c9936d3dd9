/**
 * The client's response is framed by the backend's parsed head, not by re-reading its header
 * strings, and field values keep every byte the shared tokenizer does not trim (SP and HTAB).
 */
import assert from "node:assert/strict";
import { startLb } from "../../_util/harness.ts";
import { startRawBackend } from "../../_util/raw_backend.ts";
import { octets, RawConn } from "../../_util/raw_http.ts";

const get = (path: string, method = "GET") => `${method} ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

Deno.test("proxy frames a response with an agreeing Content-Length list (5, 5) by its parsed length", async () => {
  const backend = startRawBackend(async (head, conn) => {
    const headOnly = head.startsWith("HEAD ");
    await conn.write(octets("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n"));
    if (headOnly) return;
    // The body after the head, in a later write: the proxy streams it rather than holding bytes.
    if (head.startsWith("GET /later ")) await new Promise((r) => setTimeout(r, 50));
    await conn.write(octets("hello"));
  });
  const lb = await startLb([backend.url]);
  const conn = await RawConn.open(lb.proxyAddr.port);
  try {
    for (const path of ["/later", "/together", "/later"]) {
      await conn.write(get(path));
      const r = await conn.readResponse();
      assert.equal(r.status, 200, path);
      assert.equal(r.header("content-length"), "5", `${path}: one length, from the parsed head`);
      assert.equal(r.header("transfer-encoding"), null, path);
      assert.equal(r.header("connection"), null, `${path}: the connection stays open`);
      assert.equal(r.text, "hello", path);
    }
    await conn.write(get("/", "HEAD"));
    const head = await conn.readResponse({ head: true });
    assert.equal(head.header("content-length"), "5", "HEAD keeps the representation's length");
    await conn.write(get("/together"));
    assert.equal((await conn.readResponse()).text, "hello", "nothing was left over after the HEAD");
    assert.equal(backend.heads.length, 5);
  } finally {
    await conn.close();
    await lb.shutdown();
    await backend.close();
  }
});

Deno.test("proxy keeps a trailing latin-1 NBSP in a response field value, as in a request's", async () => {
  const backend = startRawBackend(async (_head, conn) => {
    await conn.write(
      octets("HTTP/1.1 200 OK\r\nX-V: v\xa0\r\nX-Pad: \t w \t\r\nContent-Length: 2\r\n\r\nok"),
    );
  });
  const lb = await startLb([backend.url]);
  const conn = await RawConn.open(lb.proxyAddr.port);
  try {
    await conn.write(`GET / HTTP/1.1\r\nHost: t\r\nX-Req: r\xa0\r\n\r\n`);
    const r = await conn.readResponse();
    assert.equal(r.status, 200);
    assert.equal(
      r.header("x-v"),
      "v\xa0",
      "NBSP is a field-value byte, not whitespace (RFC 9110 section 5.6.3)",
    );
    assert.equal(r.header("x-pad"), "w", "SP and HTAB around a value are trimmed");
    assert.match(backend.heads[0], /\r\nX-Req: r\xa0\r\n/, "the request side keeps it too");
  } finally {
    await conn.close();
    await lb.shutdown();
    await backend.close();
  }
});
