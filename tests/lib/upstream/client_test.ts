import assert from "node:assert/strict";
import { Backend } from "../../../lib/pool/backend.ts";
import { parseChunkSize } from "../../../lib/http1/framing.ts";
import { framingOf, headEnd, parseResponseHead as parseHead } from "../../../lib/upstream/response_head.ts";
import { type BodyOutcome, UpstreamClient, type UpstreamResponse } from "../../../lib/upstream/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const TIMEOUTS = { connectMs: 1000, requestMs: 2000 };

/** A raw TCP server: `reply` gets each request head (and the connection) and writes bytes back. */
function rawServer(reply: (head: string, conn: Deno.Conn, index: number) => Promise<void> | void) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  let requests = 0;
  const heads: string[] = [];
  (async () => {
    for await (const conn of listener) {
      connections++;
      (async () => {
        const buf = new Uint8Array(65536);
        let pending = "";
        try {
          while (true) {
            const n = await conn.read(buf);
            if (n === null) break;
            pending += new TextDecoder().decode(buf.subarray(0, n));
            let end;
            while ((end = pending.indexOf("\r\n\r\n")) !== -1) {
              const head = pending.slice(0, end);
              pending = pending.slice(end + 4);
              heads.push(head);
              await reply(head, conn, requests++);
            }
          }
        } catch { /* peer closed */ }
        try {
          conn.close();
        } catch { /* closed by reply */ }
      })();
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    backend: new Backend(0, "raw", `http://127.0.0.1:${port}`, 1),
    heads,
    get connections() {
      return connections;
    },
    close: () => listener.close(),
  };
}

/** A server that answers `ok` and closes each connection `afterMs` later, without saying so. */
function closingServer(afterMs: number) {
  return rawServer(async (_head, conn) => {
    await conn.write(enc("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    setTimeout(() => {
      try {
        conn.close();
      } catch { /* closed */ }
    }, afterMs);
  });
}

async function get(
  client: UpstreamClient,
  backend: Backend,
  method = "GET",
  headers: string[] = [],
) {
  let outcome: BodyOutcome | undefined;
  const r = await client.send(
    backend,
    {
      method,
      target: "/x",
      headers: ["host", "h", ...headers],
      body: null,
      signal: new AbortController().signal,
    },
    TIMEOUTS,
    (o) => outcome = o,
  );
  if (!r.ok) return { r, text: "", outcome };
  const text = (r as UpstreamResponse).body ? await new Response((r as UpstreamResponse).body).text() : "";
  return { r: r as UpstreamResponse, text, outcome };
}

Deno.test("parseHead() reads status, repeated headers and framing; refuses ambiguity", () => {
  const bytes = enc("HTTP/1.1 200 OK\r\nSet-Cookie: a\r\nset-cookie: b\r\nContent-Length: 5\r\n\r\nhello");
  const end = headEnd(bytes, bytes.length);
  const head = parseHead(bytes, end);
  assert.ok(typeof head !== "string");
  assert.equal(head.status, 200);
  assert.deepEqual(head.headers, ["Set-Cookie", "a", "set-cookie", "b", "Content-Length", "5"]);
  assert.deepEqual(framingOf("GET", head), { kind: "length", length: 5 });
  assert.deepEqual(framingOf("HEAD", head), { kind: "none" });
  const parse = (s: string) => parseHead(enc(s), enc(s).length);
  assert.match(
    parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") as string,
    /conflicting/,
  );
  assert.match(parse("HTTP/1.1 200 OK\r\n folded\r\n\r\n") as string, /malformed header/);
  assert.match(parse("HTTX/1.1 200 OK\r\n\r\n") as string, /malformed status line/);
  const te = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n");
  assert.ok(typeof te !== "string");
  assert.deepEqual(framingOf("GET", te), { kind: "chunked" }, "Transfer-Encoding overrides Content-Length");
  const h10 = parse("HTTP/1.0 200 OK\r\n\r\n");
  assert.ok(typeof h10 !== "string" && h10.close);
  assert.equal(parseChunkSize("1a;ext=1"), 26);
  assert.equal(parseChunkSize("zz"), -1);
});

Deno.test("UpstreamClient reuses keep-alive connections and reads chunked bodies", async () => {
  const server = rawServer(async (_head, conn) => {
    await conn.write(
      enc(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n",
      ),
    );
  });
  const client = new UpstreamClient();
  try {
    for (let i = 0; i < 5; i++) {
      const { r, text, outcome } = await get(client, server.backend);
      assert.ok(r.ok);
      assert.equal(text, "hello world");
      assert.equal(outcome, "complete");
    }
    assert.equal(server.connections, 1, "one connection for five sequential requests");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("UpstreamClient skips 1xx interim responses and honours Connection: close", async () => {
  const server = rawServer(async (_head, conn) => {
    await conn.write(enc("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"));
    await conn.write(enc("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close"));
    conn.close();
  });
  const client = new UpstreamClient();
  try {
    for (let i = 0; i < 2; i++) {
      const { r, text } = await get(client, server.backend);
      assert.ok(r.ok);
      assert.equal(r.status, 200);
      assert.equal(text, "until close");
    }
    assert.equal(server.connections, 2, "a closed connection is not reused");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("UpstreamClient reads a final head that arrives in a later read than the 1xx before it", async () => {
  const server = rawServer(async (_head, conn) => {
    // The interim head is longer than the final one, so a search resuming at a stale offset misses it.
    await conn.write(enc(`HTTP/1.1 103 Early Hints\r\nLink: </${"a".repeat(100)}.css>\r\n\r\n`));
    // Long enough that the final head cannot land in the same read as the interim one.
    await new Promise((r) => setTimeout(r, 50));
    await conn.write(enc("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  });
  const client = new UpstreamClient();
  try {
    for (let i = 0; i < 2; i++) {
      const { r, text } = await get(client, server.backend);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(text, "ok");
    }
    assert.equal(server.connections, 1);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("UpstreamClient returns bodiless HEAD, 204 and 304 and keeps the connection", async () => {
  const server = rawServer(async (head, conn, i) => {
    if (head.startsWith("HEAD")) await conn.write(enc("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"));
    else await conn.write(enc(`HTTP/1.1 ${i % 2 ? 304 : 204} X\r\nETag: "1"\r\n\r\n`));
  });
  const client = new UpstreamClient();
  try {
    const head = await get(client, server.backend, "HEAD");
    assert.ok(head.r.ok && head.r.body === null);
    assert.equal(head.outcome, "complete");
    const a = await get(client, server.backend);
    const b = await get(client, server.backend);
    assert.deepEqual([a.r.ok && a.r.status, b.r.ok && b.r.status].sort(), [204, 304]);
    assert.equal(server.connections, 1);
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("UpstreamClient replays a body-less request once when a reused connection was closed", async () => {
  // The server answers once per connection, then closes it without saying so in the response.
  const server = closingServer(1);
  const client = new UpstreamClient();
  try {
    for (let i = 0; i < 4; i++) {
      const { r, text } = await get(client, server.backend);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(text, "ok");
    }
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("UpstreamClient reports a reset mid-body and a truncated length", async () => {
  const server = rawServer(async (_head, conn) => {
    await conn.write(enc("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten.."));
    conn.close();
  });
  const client = new UpstreamClient();
  try {
    let outcome: BodyOutcome | undefined;
    const r = await client.send(
      server.backend,
      { method: "GET", target: "/", headers: [], body: null, signal: new AbortController().signal },
      TIMEOUTS,
      (o) => outcome = o,
    );
    assert.ok(r.ok);
    await assert.rejects(new Response(r.body).arrayBuffer());
    assert.equal(outcome, "reset");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("UpstreamClient sends chunked request bodies when the length is unknown", async () => {
  let received = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    received = `${req.headers.get("transfer-encoding")}|${await req.text()}`;
    return new Response("done");
  });
  const client = new UpstreamClient();
  try {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc("abc"));
        c.enqueue(enc("defg"));
        c.close();
      },
    });
    const r = await client.send(
      new Backend(0, "d", `http://127.0.0.1:${server.addr.port}`, 1),
      { method: "POST", target: "/", headers: ["host", "h"], body, signal: new AbortController().signal },
      TIMEOUTS,
      () => {},
    );
    assert.ok(r.ok);
    assert.equal(await new Response(r.body).text(), "done");
    assert.equal(received, "chunked|abcdefg");
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("UpstreamClient drops an idle pooled connection its backend closed, before a request that cannot be replayed meets it", async () => {
  // Keep-alive answers; each connection is closed by the server 200 ms after its first answer.
  const server = closingServer(200);
  const client = new UpstreamClient();
  try {
    const first = await get(client, server.backend);
    assert.equal(first.text, "ok");
    // Idle for over two sweeps of the pool (one a second): the pending read sees the close.
    await new Promise((r) => setTimeout(r, 3_000));
    // A streamed body cannot be replayed: on the stale connection this would be a reset.
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc("hi"));
        c.close();
      },
    });
    const r = await client.send(
      server.backend,
      { method: "POST", target: "/x", headers: ["host", "h"], body, signal: new AbortController().signal },
      TIMEOUTS,
      () => {},
    );
    assert.ok(r.ok, JSON.stringify(r));
    if (r.body instanceof ReadableStream) await r.body.cancel();
    assert.equal(server.connections, 2, "the second request went out on a fresh connection");
  } finally {
    client.close();
    server.close();
  }
});
