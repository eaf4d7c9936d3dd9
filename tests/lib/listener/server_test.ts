import assert from "node:assert/strict";
import { serveHttp1, type ServerRequest, type ServerResponse } from "../../../lib/listener/server.ts";
import { sleep } from "../../_util/load.ts";
import { exchange, type ParsedResponse, RawConn } from "../../_util/raw_http.ts";
import { within } from "../../_util/tools.ts";

type Options = Parameters<typeof serveHttp1>[0];
type Handler = Parameters<typeof serveHttp1>[1];
type Server = ReturnType<typeof serveHttp1>;

const enc = (s: string) => new TextEncoder().encode(s);
const ok = (body: ServerResponse["body"], headers: string[] = [], length?: number): ServerResponse => ({
  status: 200,
  headers,
  body,
  length,
});

/** Run `fn` against a fresh server on an ephemeral loopback port; the server is closed afterwards. */
async function withServer(
  options: Partial<Options>,
  handler: Handler,
  fn: (port: number, server: Server) => Promise<void>,
): Promise<void> {
  const server = serveHttp1({ hostname: "127.0.0.1", port: 0, ...options }, handler);
  try {
    await fn(server.addr.port, server);
  } finally {
    server.close();
    await server.shutdown();
  }
}

/** Open a socket, run `fn`, always close it. */
async function withConn(port: number, fn: (conn: RawConn) => Promise<void>): Promise<void> {
  const conn = await RawConn.open(port);
  try {
    await fn(conn);
  } finally {
    await conn.close();
  }
}

/** All bytes of a request body, whichever form it came in. */
async function readAll(body: ServerRequest["body"]): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

const text = async (body: ServerRequest["body"]) => new TextDecoder().decode(await readAll(body));

/** What kind of body the handler was given. */
const kindOf = (body: ServerRequest["body"]) =>
  body === null
    ? "null"
    : body instanceof Uint8Array
    ? "bytes"
    : body instanceof ReadableStream
    ? "stream"
    : "other";

/** Echo `METHOD target version body` so a response names the request it answers. */
const echo: Handler = async (req) => ok(`${req.method} ${req.target} ${req.version} ${await text(req.body)}`);

/** A stream of the given text pieces. */
function streamOf(...pieces: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const p of pieces) controller.enqueue(enc(p));
      controller.close();
    },
  });
}

/** True if `signal` aborts within `ms`. */
function abortedWithin(signal: AbortSignal, ms: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(true);
    }, { once: true });
  });
}

const get = (target: string, extra = "") => `GET ${target} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

function assertKeptAlive(r: ParsedResponse): void {
  assert.notEqual(r.header("connection")?.toLowerCase(), "close", "response must not announce a close");
}

function assertClosing(r: ParsedResponse): void {
  assert.match(r.header("connection") ?? "", /close/i, "response must carry connection: close");
}

Deno.test("serveHttp1() exposes method, target, version, remote address and headers as sent", async () => {
  let seen: ServerRequest | undefined;
  await withServer({}, (req) => {
    seen = req;
    return Promise.resolve(ok("done"));
  }, (port) =>
    withConn(port, async (conn) => {
      await conn.write(
        "PURGE /a/b?c=d%20e HTTP/1.1\r\nHost: t\r\nX-Multi:  one \t\r\nx-multi: two\r\nX-Tab: a\tb\r\n\r\n",
      );
      assert.equal((await conn.readResponse()).text, "done");
      assert.ok(seen);
      assert.equal(seen.method, "PURGE");
      assert.equal(seen.target, "/a/b?c=d%20e");
      assert.equal(seen.version, "HTTP/1.1");
      assert.equal(seen.remoteAddr.hostname, "127.0.0.1");
      assert.equal(seen.remoteAddr.port, conn.localAddr.port);
      assert.equal(seen.headers.get("X-MULTI"), "one, two");
      assert.equal(seen.headers.get("x-tab"), "a\tb", "HTAB inside a value is allowed");
      assert.equal(seen.headers.get("absent"), null);
      assert.deepEqual([...seen.headers].sort(([a], [b]) => a < b ? -1 : 1), [
        ["host", "t"],
        ["x-multi", "one, two"],
        ["x-tab", "a\tb"],
      ]);
      assert.deepEqual(seen.headers.raw, ["Host", "t", "X-Multi", "one", "x-multi", "two", "X-Tab", "a\tb"]);
      assert.equal(seen.body, null);
    }));
});

Deno.test("serveHttp1() reuses a keep-alive connection for a second request", async () => {
  const ports = new Set<number>();
  await withServer({}, (req) => {
    ports.add(req.remoteAddr.port);
    return echo(req);
  }, (port) =>
    withConn(port, async (conn) => {
      await conn.write(get("/one"));
      const first = await conn.readResponse();
      assert.equal(first.text, "GET /one HTTP/1.1 ");
      assertKeptAlive(first);
      await conn.write(get("/two"));
      const second = await conn.readResponse();
      assert.equal(second.text, "GET /two HTTP/1.1 ");
      assertKeptAlive(second);
      assert.equal(ports.size, 1, "both requests came over one connection");
      assert.equal(conn.closed, false);
    }));
});

Deno.test("serveHttp1() answers pipelined requests in order", async () => {
  await withServer({}, async (req) => {
    if (req.target === "/1") await sleep(50); // the first answer is the slowest: order must still hold
    return echo(req);
  }, (port) =>
    withConn(port, async (conn) => {
      await conn.write(
        get("/1") + "POST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" + get("/3"),
      );
      assert.equal((await conn.readResponse()).text, "GET /1 HTTP/1.1 ");
      assert.equal((await conn.readResponse()).text, "POST /2 HTTP/1.1 abc");
      assert.equal((await conn.readResponse()).text, "GET /3 HTTP/1.1 ");
    }));
});

Deno.test("serveHttp1() closes after the response when the request says Connection: close", async () => {
  await withServer({}, echo, (port) =>
    withConn(port, async (conn) => {
      await conn.write(get("/", "Connection: close\r\n"));
      const r = await conn.readResponse();
      assert.equal(r.status, 200);
      assertClosing(r);
      assert.equal(await conn.readToEnd(1000), "");
    }));
});

Deno.test("serveHttp1() closes an HTTP/1.0 connection after the response", async () => {
  await withServer({}, echo, (port) =>
    withConn(port, async (conn) => {
      await conn.write("GET /old HTTP/1.0\r\n\r\n");
      const r = await conn.readResponse();
      assert.equal(r.text, "GET /old HTTP/1.0 ");
      assert.notEqual(r.header("connection")?.toLowerCase(), "keep-alive");
      assert.equal(await conn.readToEnd(1000), "");
    }));
});

Deno.test("serveHttp1() keeps an HTTP/1.0 connection alive on Connection: keep-alive", async () => {
  await withServer({}, echo, (port) =>
    withConn(port, async (conn) => {
      await conn.write("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      const first = await conn.readResponse();
      assert.equal(first.text, "GET /a HTTP/1.0 ");
      assert.equal(first.header("connection")?.toLowerCase(), "keep-alive");
      await conn.write("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      assert.equal((await conn.readResponse()).text, "GET /b HTTP/1.0 ");
      assert.equal(await conn.peek(50), "", "no stray bytes and still open");
      assert.equal(conn.closed, false);
    }));
});

Deno.test("serveHttp1() gives a null body without Content-Length or with Content-Length: 0", async () => {
  const kinds: string[] = [];
  await withServer({}, (req) => {
    kinds.push(kindOf(req.body));
    return Promise.resolve(ok("x"));
  }, (port) =>
    withConn(port, async (conn) => {
      await conn.write(get("/none") + "POST /zero HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
      await conn.readResponse();
      await conn.readResponse();
      assert.deepEqual(kinds, ["null", "null"]);
    }));
});

Deno.test("serveHttp1() hands over a body that arrived with the head as a Uint8Array", async () => {
  const kinds: string[] = [];
  await withServer({}, (req) => {
    kinds.push(kindOf(req.body));
    return echo(req);
  }, (port) =>
    withConn(port, async (conn) => {
      await conn.write("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
      assert.equal((await conn.readResponse()).text, "POST /up HTTP/1.1 hello");
      assert.deepEqual(kinds, ["bytes"]);
    }));
});

Deno.test("serveHttp1() streams a Content-Length body that arrives in later writes", async () => {
  const called = Promise.withResolvers<void>();
  let kind = "";
  await withServer({}, (req) => {
    kind = kindOf(req.body);
    called.resolve();
    return echo(req);
  }, (port) =>
    withConn(port, async (conn) => {
      await conn.write("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
      await within(called.promise, 1000, "handler called once the head is complete");
      await conn.write("hello");
      await sleep(20);
      await conn.write(" world");
      assert.equal((await conn.readResponse()).text, "POST /up HTTP/1.1 hello world");
      assert.equal(kind, "stream");
    }));
});

Deno.test("serveHttp1() decodes a chunked request body with extensions and trailers", async () => {
  await withServer({}, echo, (port) =>
    withConn(port, async (conn) => {
      // All at once, then split across writes inside a size line and inside chunk data.
      await conn.write(
        "POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
          "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
      );
      assert.equal((await conn.readResponse()).text, "POST /a HTTP/1.1 hello world");
      await conn.write('POST /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;e="q"\r\nhel');
      await sleep(20);
      await conn.write("lo\r\n");
      await sleep(20);
      await conn.write("A\r\n0123456789\r\n0\r\nX-One: 1\r\nX-Two: 2\r\n\r\n" + get("/after"));
      assert.equal((await conn.readResponse()).text, "POST /b HTTP/1.1 hello0123456789");
      assert.equal((await conn.readResponse()).text, "GET /after HTTP/1.1 ", "trailers were consumed");
    }));
});

Deno.test("serveHttp1() errors the body stream when the client closes early", async () => {
  const called = Promise.withResolvers<void>();
  const outcome = Promise.withResolvers<string>();
  await withServer({}, async (req) => {
    called.resolve();
    try {
      const got = await text(req.body);
      outcome.resolve(`read ${JSON.stringify(got)}`);
    } catch {
      outcome.resolve("errored");
    }
    return ok("x");
  }, async (port) => {
    const conn = await RawConn.open(port);
    await conn.write("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    await within(called.promise, 1000, "handler called");
    await conn.close();
    assert.equal(await within(outcome.promise, 1000, "body read settled"), "errored");
  });
});

Deno.test("serveHttp1() sends 100 Continue only once the handler reads the body", async () => {
  const called = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  await withServer({}, async (req) => {
    called.resolve();
    await gate.promise;
    return echo(req);
  }, (port) =>
    withConn(port, async (conn) => {
      await conn.write("PUT /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
      await within(called.promise, 1000, "handler called");
      assert.equal(await conn.peek(150), "", "nothing is sent before the body is read");
      gate.resolve();
      const interim = await conn.readResponse();
      assert.equal(interim.status, 100);
      assert.match(interim.raw, /^HTTP\/1\.1 100 Continue\r\n/);
      await conn.write("hello");
      const final = await conn.readResponse();
      assert.equal(final.status, 200);
      assert.equal(final.text, "PUT /up HTTP/1.1 hello");
    }));
});

Deno.test("serveHttp1() sends no 100 Continue when the handler answers without reading the body", async () => {
  await withServer({}, () => Promise.resolve(ok("no thanks")), (port) =>
    withConn(port, async (conn) => {
      await conn.write(
        "PUT /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
      );
      const r = await conn.readResponse();
      assert.equal(r.status, 200);
      assert.equal(r.text, "no thanks");
      assert.equal(await conn.readToEnd(1000), "");
    }));
});

/** Requests the server must refuse itself, each with the status it must answer before closing. */
const REJECTIONS: [string, number, string][] = [
  ["request line without version", 400, "GET /\r\nHost: t\r\n\r\n"],
  ["request line with two spaces", 400, "GET  / HTTP/1.1\r\nHost: t\r\n\r\n"],
  ["request line with trailing word", 400, "GET / HTTP/1.1 x\r\nHost: t\r\n\r\n"],
  ["empty method", 400, " / HTTP/1.1\r\nHost: t\r\n\r\n"],
  ["bare LF ending the request line", 400, "GET / HTTP/1.1\nHost: t\r\n\r\n"],
  ["bare LF ending a header line", 400, "GET / HTTP/1.1\r\nHost: t\nX: y\r\n\r\n"],
  ["bare CR inside the head", 400, "GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n"],
  ["whitespace before a header colon", 400, "GET / HTTP/1.1\r\nHost: t\r\nX-A : y\r\n\r\n"],
  ["empty header name", 400, "GET / HTTP/1.1\r\nHost: t\r\n: y\r\n\r\n"],
  ["non-token header name", 400, "GET / HTTP/1.1\r\nHost: t\r\nX@A: y\r\n\r\n"],
  ["header line without colon", 400, "GET / HTTP/1.1\r\nHost: t\r\nX-A\r\n\r\n"],
  ["NUL in a value", 400, "GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n"],
  ["control character in a value", 400, "GET / HTTP/1.1\r\nHost: t\r\nX: a\x01b\r\n\r\n"],
  ["DEL in a value", 400, "GET / HTTP/1.1\r\nHost: t\r\nX: a\x7fb\r\n\r\n"],
  ["obs-fold", 400, "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n"],
  ["obs-fold with HTAB", 400, "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n\tb\r\n\r\n"],
  ["HTTP/1.1 without Host", 400, "GET / HTTP/1.1\r\nX: y\r\n\r\n"],
  ["two Host fields", 400, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"],
  ["Content-Length with a letter", 400, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5a\r\n\r\nhello"],
  ["negative Content-Length", 400, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n"],
  ["Content-Length with a sign", 400, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello"],
  ["Content-Length as a list", 400, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\nhello"],
  [
    "repeated Content-Length",
    400,
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
  ],
  [
    "Content-Length with Transfer-Encoding",
    400,
    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  ],
  ["Transfer-Encoding in HTTP/1.0", 400, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
  ["head over maxHeadBytes", 431, `GET / HTTP/1.1\r\nHost: t\r\nX: ${"a".repeat(1100)}\r\n\r\n`],
  ["unfinished head over maxHeadBytes", 431, `GET / HTTP/1.1\r\nHost: t\r\nX: ${"a".repeat(1100)}`],
  [
    "more than maxHeaders fields",
    431,
    "GET / HTTP/1.1\r\nHost: t\r\n" + Array.from({ length: 10 }, (_, i) => `X-${i}: v\r\n`).join("") + "\r\n",
  ],
  ["Transfer-Encoding gzip", 501, "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n"],
  [
    "Transfer-Encoding gzip, chunked",
    501,
    "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
  ],
  ["HTTP/2.0", 505, "GET / HTTP/2.0\r\nHost: t\r\n\r\n"],
  ["HTTP/3.0", 505, "GET / HTTP/3.0\r\nHost: t\r\n\r\n"],
];

Deno.test("serveHttp1() rejects malformed requests with 400, 431, 501 or 505 and closes", async () => {
  let calls = 0;
  const failures: string[] = [];
  await withServer({ maxHeadBytes: 1024, maxHeaders: 10 }, (req) => {
    calls++;
    return echo(req);
  }, async (port) => {
    for (const [name, status, request] of REJECTIONS) {
      const before = calls;
      await withConn(port, async (conn) => {
        await conn.write(request);
        let r: ParsedResponse;
        try {
          r = await conn.readResponse({ timeoutMs: 1000 });
        } catch (error) {
          failures.push(`${name} (want ${status}): ${(error as Error).message}`);
          return;
        }
        const rest = await conn.readToEnd(1000).catch((error: Error) => error.message);
        const problems = [
          r.status !== status && `status ${r.status}`,
          calls !== before && "handler was called",
          !/close/i.test(r.header("connection") ?? "") && "no connection: close",
          rest !== "" && `after the response: ${rest}`,
        ].filter(Boolean);
        if (problems.length) failures.push(`${name} (want ${status}): ${problems.join(", ")}`);
      });
    }
    // Controls: the limits are inclusive and HTAB is fine, so the table is not passing by refusing everything.
    const atLimit = "GET /ok HTTP/1.1\r\nHost: t\r\n" +
      Array.from({ length: 9 }, (_, i) => `X-${i}: a\tb\r\n`).join("") + "\r\n";
    assert.equal((await exchange(port, atLimit)).status, 200, "exactly maxHeaders fields are accepted");
    const line = "GET /ok HTTP/1.1\r\nHost: t\r\nX: ";
    const underLimit = line + "a".repeat(1000 - line.length - 4) + "\r\n\r\n";
    assert.equal((await exchange(port, underLimit)).status, 200, "a 1000-byte head is within 1024");
    // RFC 9110 section 2.5: a later minor version of HTTP/1 is processed as the highest one we speak.
    assert.equal((await exchange(port, "GET / HTTP/1.2\r\nHost: t\r\n\r\n")).text, "GET / HTTP/1.1 ");
  });
  assert.deepEqual(failures, []);
});

Deno.test("serveHttp1() answers malformed chunked encoding with 400 before the response starts", async () => {
  const cases = [
    ["chunk size not hex", "zz\r\nhello\r\n0\r\n\r\n"],
    ["no CRLF after chunk data", "5\r\nhelloXX0\r\n\r\n"],
  ];
  const failures: string[] = [];
  await withServer({}, echo, async (port) => {
    for (const [name, body] of cases) {
      await withConn(port, async (conn) => {
        await conn.write("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
        try {
          const r = await conn.readResponse({ timeoutMs: 1000 });
          const rest = await conn.readToEnd(1000);
          if (r.status !== 400 || rest !== "") {
            failures.push(`${name}: status ${r.status}, then ${JSON.stringify(rest)}`);
          }
        } catch (error) {
          failures.push(`${name}: ${(error as Error).message}`);
        }
      });
    }
  });
  assert.deepEqual(failures, []);
});

Deno.test("serveHttp1() closes the connection when a chunked body turns malformed after the response started", async () => {
  await withServer({}, (req) => Promise.resolve(ok(req.body)), (port) =>
    withConn(port, async (conn) => {
      await conn.write("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      assert.match(await conn.peek(300), /^HTTP\/1\.1 200 /, "the echoed response has started");
      await conn.write("zz\r\n");
      const all = await conn.readToEnd(1000);
      assert.match(all, /^HTTP\/1\.1 200 /);
      assert.ok(!all.endsWith("0\r\n\r\n"), `the response must not look complete: ${JSON.stringify(all)}`);
    }));
});

Deno.test("serveHttp1() answers 408 and closes when a head does not complete within headerTimeoutMs", async () => {
  await withServer({ headerTimeoutMs: () => 200, idleTimeoutMs: () => 5000 }, echo, async (port) => {
    const quiet = await RawConn.open(port);
    try {
      await withConn(port, async (conn) => {
        const start = performance.now();
        await conn.write("GET / HTTP/1.1\r\nHost: t\r\n");
        const r = await conn.readResponse({ timeoutMs: 1500 });
        assert.equal(r.status, 408);
        assert.ok(performance.now() - start >= 150, "not before the timeout");
        assert.equal(await conn.readToEnd(1000), "");
      });
      await withConn(port, async (conn) => {
        await conn.write(get("/first"));
        assert.equal((await conn.readResponse()).status, 200);
        await conn.write("GET /second HTTP/1.1\r\n");
        assert.equal((await conn.readResponse({ timeoutMs: 1500 })).status, 408, "also for a later head");
        assert.equal(await conn.readToEnd(1000), "");
      });
      assert.equal(await quiet.peek(50), "", "a connection that sent nothing gets no 408");
    } finally {
      await quiet.close();
    }
  });
});

Deno.test("serveHttp1() does not extend headerTimeoutMs for a head sent one byte at a time", async () => {
  await withServer(
    { headerTimeoutMs: () => 200, idleTimeoutMs: () => 5000 },
    echo,
    (port) =>
      withConn(port, async (conn) => {
        const head = get("/slowloris", "X-Pad: " + "p".repeat(40) + "\r\n");
        const start = performance.now();
        for (let i = 0; i < 20 && !(await conn.peek(50)); i++) { // 20 bytes over about 1 s, never the whole head
          await conn.write(head[i]).catch(() => {}); // the server may already have closed
        }
        const r = await conn.readResponse({ timeoutMs: 1000 });
        assert.equal(r.status, 408);
        assert.ok(performance.now() - start < 700, "the deadline counts from the first byte, not the last");
      }),
  );
});

Deno.test("serveHttp1() closes an idle keep-alive connection silently after idleTimeoutMs", async () => {
  await withServer({ headerTimeoutMs: () => 100, idleTimeoutMs: () => 300 }, echo, async (port) => {
    const fresh = await RawConn.open(port);
    try {
      await withConn(port, async (conn) => {
        await conn.write(get("/"));
        assert.equal((await conn.readResponse()).status, 200);
        const start = performance.now();
        assert.equal(await conn.readToEnd(1500), "", "closed without a response");
        assert.ok(performance.now() - start >= 200, "the idle timeout, not the header timeout, applies");
      });
      assert.equal(await fresh.readToEnd(1500), "", "a fresh connection that sent nothing closes silently");
    } finally {
      await fresh.close();
    }
  });
});

Deno.test("serveHttp1() frames Uint8Array and string bodies with Content-Length", async () => {
  await withServer({}, (req) =>
    Promise.resolve(
      req.target === "/bytes"
        ? ok(new Uint8Array([1, 2, 3, 255]))
        : ok("héllo ✓", ["content-type", "text/plain"]),
    ), (port) =>
    withConn(port, async (conn) => {
      await conn.write(get("/bytes") + get("/string"));
      const bytes = await conn.readResponse();
      assert.equal(bytes.header("content-length"), "4");
      assert.equal(bytes.header("transfer-encoding"), null);
      assert.deepEqual([...bytes.body], [1, 2, 3, 255]);
      const string = await conn.readResponse();
      assert.equal(string.header("content-length"), String(enc("héllo ✓").length));
      assert.equal(string.header("content-type"), "text/plain");
      assert.equal(string.text, "héllo ✓");
    }));
});

Deno.test("serveHttp1() sends a stream without Content-Length chunked to HTTP/1.1 clients", async () => {
  await withServer(
    {},
    (req) => Promise.resolve(ok(req.target === "/s" ? streamOf("ab", "", "cde") : "next")),
    (port) =>
      withConn(port, async (conn) => {
        await conn.write(get("/s"));
        const r = await conn.readResponse();
        assert.equal(r.header("transfer-encoding"), "chunked");
        assert.equal(r.header("content-length"), null);
        assert.equal(r.text, "abcde");
        assert.ok(r.raw.endsWith("\r\n0\r\n\r\n"), "ends with the last chunk");
        assert.ok(!/\r\n\r\n0\r\n\r\n[^]/.test(r.raw), "an empty piece is not sent as a last chunk");
        await conn.write(get("/n"));
        assert.equal((await conn.readResponse()).text, "next", "the connection stays usable");
      }),
  );
});

Deno.test("serveHttp1() sends a stream without Content-Length close-delimited to HTTP/1.0 clients", async () => {
  await withServer(
    {},
    () => Promise.resolve(ok(streamOf("ab", "cde"))),
    (port) =>
      withConn(port, async (conn) => {
        await conn.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        const r = await conn.readResponse(); // no framing headers: the parser reads to EOF
        assert.equal(r.header("transfer-encoding"), null);
        assert.equal(r.header("content-length"), null);
        assert.notEqual(
          r.header("connection")?.toLowerCase(),
          "keep-alive",
          "cannot stay alive without framing",
        );
        assert.equal(r.text, "abcde");
        assert.equal(conn.closed, true);
      }),
  );
});

Deno.test("serveHttp1() sends a stream with its own Content-Length as is", async () => {
  await withServer(
    {},
    (req) => Promise.resolve(req.target === "/s" ? ok(streamOf("ab", "cde"), [], 5) : ok("next")),
    (port) =>
      withConn(port, async (conn) => {
        await conn.write(get("/s"));
        const r = await conn.readResponse();
        assert.equal(r.header("content-length"), "5");
        assert.equal(r.header("transfer-encoding"), null);
        assert.ok(r.raw.endsWith("\r\n\r\nabcde"));
        await conn.write(get("/n"));
        assert.equal((await conn.readResponse()).text, "next");
      }),
  );
});

Deno.test("serveHttp1() closes when a stream's length differs from its Content-Length", async () => {
  await withServer({}, (req) =>
    Promise.resolve(
      req.target === "/short" ? ok(streamOf("abc"), [], 10) : ok(streamOf("abc", "def"), [], 3),
    ), async (port) => {
    for (const target of ["/short", "/long"]) {
      await withConn(port, async (conn) => {
        await conn.write(get(target));
        const all = await conn.readToEnd(1000);
        const end = all.indexOf("\r\n\r\n");
        assert.match(all, /^HTTP\/1\.1 200 /, target);
        const body = all.slice(end + 4);
        assert.ok(
          "abc".startsWith(body),
          `${target}: no byte past the announced length, got ${JSON.stringify(body)}`,
        );
      });
    }
  });
});

Deno.test("serveHttp1() never copies connection, transfer-encoding or content-length from the handler's headers", async () => {
  await withServer(
    {},
    () =>
      Promise.resolve(
        ok("ok", [
          "Connection",
          "x-custom",
          "Transfer-Encoding",
          "chunked",
          "Content-Length",
          "5, 5",
          "x-kept",
          "1",
        ]),
      ),
    (port) =>
      withConn(port, async (conn) => {
        await conn.write(get("/a"));
        const r = await conn.readResponse();
        assert.equal(r.header("connection"), null);
        assert.equal(r.header("transfer-encoding"), null);
        assert.equal(r.header("content-length"), "2");
        assert.equal(r.header("x-kept"), "1");
        assert.equal(r.text, "ok");
        await conn.write(get("/b"));
        assert.equal((await conn.readResponse()).text, "ok");
      }),
  );
});

Deno.test("serveHttp1() sends no body bytes for HEAD, 204 and 304", async () => {
  await withServer({}, (req) => {
    if (req.target === "/204") return Promise.resolve({ status: 204, headers: [], body: "nope" });
    if (req.target === "/304") {
      return Promise.resolve({ status: 304, headers: ["etag", '"x"'], body: "nope" });
    }
    if (req.target === "/stream") return Promise.resolve(ok(streamOf("nope")));
    return Promise.resolve(ok(req.target === "/end" ? "end" : "hello"));
  }, (port) =>
    withConn(port, async (conn) => {
      await conn.write(
        "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + get("/204") + get("/304") +
          "HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n" + get("/end"),
      );
      const head = await conn.readResponse({ head: true });
      assert.equal(head.status, 200);
      assert.equal(head.header("content-length"), "5", "HEAD keeps the length of the GET");
      const noContent = await conn.readResponse();
      assert.equal(noContent.status, 204);
      assert.equal(noContent.header("content-length"), null, "RFC 9110 8.6: no Content-Length in a 204");
      assert.equal(
        noContent.header("transfer-encoding"),
        null,
        "RFC 9112 6.1: no Transfer-Encoding in a 204",
      );
      const notModified = await conn.readResponse();
      assert.equal(notModified.status, 304);
      assert.equal(notModified.header("etag"), '"x"');
      assert.equal((await conn.readResponse({ head: true })).status, 200);
      // Any body byte sent above would have been read here as a status line.
      assert.equal((await conn.readResponse()).text, "end");
    }));
});

Deno.test("serveHttp1() adds a date header when the handler gave none", async () => {
  const given = "Tue, 01 Jan 2030 00:00:00 GMT";
  await withServer(
    {},
    (req) => Promise.resolve(ok("x", req.target === "/own" ? ["Date", given] : [])),
    (port) =>
      withConn(port, async (conn) => {
        await conn.write(get("/") + get("/own"));
        const added = await conn.readResponse();
        const date = added.header("date") ?? "";
        assert.match(date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
        assert.ok(Math.abs(Date.parse(date) - Date.now()) < 5000, `${date} is now`);
        const own = await conn.readResponse();
        assert.deepEqual(
          own.headers.filter(([n]) => n === "date"),
          [["date", given]],
          "the handler's date, once",
        );
      }),
  );
});

Deno.test("serveHttp1() aborts signal when the client closes mid-request", async () => {
  const called = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<boolean>();
  await withServer({}, async (req) => {
    called.resolve();
    aborted.resolve(await abortedWithin(req.signal, 1500));
    return ok("late");
  }, async (port) => {
    const conn = await RawConn.open(port);
    await conn.write(get("/wait"));
    await within(called.promise, 1000, "handler called");
    await conn.close();
    assert.equal(await aborted.promise, true);
  });
});

Deno.test("serveHttp1() treats a half-close after a complete request as the client gone", async () => {
  const called = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<boolean>();
  await withServer({}, async (req) => {
    called.resolve();
    aborted.resolve(await abortedWithin(req.signal, 1500));
    return ok("late");
  }, (port) =>
    withConn(port, async (conn) => {
      await conn.write(get("/wait"));
      await within(called.promise, 1000, "handler called");
      await conn.closeWrite();
      assert.equal(await aborted.promise, true);
    }));
});

Deno.test("serveHttp1() does not abort signal after a completed response", async () => {
  const signals: AbortSignal[] = [];
  await withServer({}, (req) => {
    signals.push(req.signal);
    return Promise.resolve(ok("done"));
  }, async (port) => {
    await withConn(port, async (conn) => {
      await conn.write(get("/a"));
      assert.equal((await conn.readResponse()).text, "done");
      await conn.write("GET /b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      assert.equal((await conn.readResponse()).text, "done");
    });
    await sleep(100);
    assert.equal(signals.length, 2);
    assert.deepEqual(signals.map((s) => s.aborted), [false, false]);
  });
});

Deno.test("serveHttp1() aborts signal when writing the response fails", async () => {
  const aborted = Promise.withResolvers<boolean>();
  const MAX_PIECES = 4096;
  let pieces = 0;
  await withServer({}, (req) => {
    abortedWithin(req.signal, 1500).then(aborted.resolve);
    const piece = new Uint8Array(16 * 1024);
    return Promise.resolve(ok(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (++pieces >= MAX_PIECES) controller.close();
          else controller.enqueue(piece);
        },
      }),
    ));
  }, async (port) => {
    const conn = await RawConn.open(port);
    await conn.write(get("/big"));
    assert.match(await conn.peek(100), /^HTTP\/1\.1 200 /);
    await conn.close();
    assert.equal(await aborted.promise, true);
    await sleep(50);
    assert.ok(pieces < MAX_PIECES, `the server stopped pulling the body (${pieces} pieces)`);
  });
});

Deno.test("serveHttp1() drains an unread request body to keep the connection", async () => {
  await withServer({}, (req) => Promise.resolve(ok(`ignored ${req.target}`)), async (port) => {
    await withConn(port, async (conn) => {
      await conn.write("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + "a".repeat(400));
      const first = await conn.readResponse();
      assert.equal(first.text, "ignored /small");
      assertKeptAlive(first);
      await conn.write("b".repeat(600) + get("/next"));
      assert.equal((await conn.readResponse()).text, "ignored /next", "the rest of the body was skipped");
    });
    await withConn(port, async (conn) => {
      await conn.write("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
      assert.equal((await conn.readResponse()).text, "ignored /big");
      assert.equal(await conn.readToEnd(1000), "", "more than 64 KiB left: closed instead of drained");
    });
  });
});

Deno.test("serveHttp1() calls onError when the handler throws", async () => {
  const errors: unknown[] = [];
  await withServer(
    {
      onError: (error) => {
        errors.push(error);
        return { status: 500, headers: [], body: "broken\n" };
      },
    },
    () => Promise.reject(new Error("boom")),
    (port) =>
      withConn(port, async (conn) => {
        await conn.write(get("/"));
        const r = await conn.readResponse();
        assert.equal(r.status, 500);
        assert.equal(r.text, "broken\n");
        assert.equal((errors[0] as Error).message, "boom");
      }),
  );
});

Deno.test("serveHttp1() shutdown() lets an in-flight request finish and closes idle connections", async () => {
  const called = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  const server = serveHttp1({ hostname: "127.0.0.1", port: 0 }, async (req) => {
    if (req.target === "/slow") {
      called.resolve();
      await gate.promise;
    }
    return ok(req.target);
  });
  const port = server.addr.port;
  const idle = await RawConn.open(port);
  const busy = await RawConn.open(port);
  try {
    await idle.write(get("/idle"));
    assert.equal((await idle.readResponse()).text, "/idle");
    await busy.write(get("/slow"));
    await within(called.promise, 1000, "slow handler called");
    let finished = false;
    const done = server.shutdown().then(() => finished = true);
    assert.equal(await idle.readToEnd(1000), "", "the idle connection closes silently");
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }), "the listener is closed");
    assert.equal(finished, false, "not done while a response is in flight");
    gate.resolve();
    const r = await busy.readResponse();
    assert.equal(r.text, "/slow");
    assertClosing(r);
    assert.equal(await busy.readToEnd(1000), "");
    await within(done, 1000, "shutdown() resolves");
  } finally {
    gate.resolve();
    server.close();
    await idle.close();
    await busy.close();
  }
});

Deno.test("serveHttp1() close() drops every connection at once", async () => {
  const called = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  const settled = Promise.withResolvers<void>();
  const server = serveHttp1({ hostname: "127.0.0.1", port: 0 }, async (req) => {
    called.resolve();
    await gate.promise;
    settled.resolve();
    return ok(req.target);
  });
  const port = server.addr.port;
  const busy = await RawConn.open(port);
  const idle = await RawConn.open(port);
  try {
    await busy.write(get("/slow"));
    await within(called.promise, 1000, "handler called");
    server.close();
    assert.equal(await busy.readToEnd(1000), "", "the in-flight request gets no response");
    assert.equal(await idle.readToEnd(1000), "");
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
  } finally {
    gate.resolve();
    await settled.promise;
    server.close();
    await busy.close();
    await idle.close();
    await sleep(10); // let the server's write to the closed connection fail and settle
  }
});
