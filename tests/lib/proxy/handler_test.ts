import assert from "node:assert/strict";
import { targetOf } from "../../../lib/proxy/target.ts";
import { nodeRequest, rawRequest, startBackend, startLb } from "../../_util/harness.ts";
import { startRawBackend } from "../../_util/raw_backend.ts";
import { HOP_BY_HOP, octets, RawConn } from "../../_util/raw_http.ts";

const echo = async (req: Request) =>
  Response.json({
    method: req.method,
    url: req.url,
    headers: [...req.headers],
    body: req.body ? await req.text() : null,
  });

Deno.test("targetOf() keeps the request target byte-for-byte and drops the authority", () => {
  assert.equal(targetOf("http://h:1/a//b%2F/../c?x=%20&y"), "/a//b%2F/../c?x=%20&y");
  assert.equal(targetOf("http://h/p?"), "/p?");
  assert.equal(targetOf("http://h"), "/");
  assert.equal(targetOf("http://h?q=1"), "/?q=1");
  assert.equal(targetOf("http://evil.example/x"), "/x");
});

Deno.test("proxy forwards any method with its body and status", async () => {
  const be = startBackend(echo);
  const lb = await startLb([be.url]);
  try {
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PURGE"]) {
      const body = ["GET", "OPTIONS"].includes(method) ? undefined : `payload-${method}`;
      const r = await nodeRequest(`${lb.url}/m`, { method, body });
      assert.equal(r.status, 200, method);
      const seen = JSON.parse(new TextDecoder().decode(r.body));
      assert.equal(seen.method, method);
      if (body !== undefined) assert.equal(seen.body, body, `${method} body forwarded`);
    }
    const created = startBackend(() => new Response("made", { status: 201, statusText: "Created" }));
    const lb2 = await startLb([created.url]);
    assert.equal((await nodeRequest(`${lb2.url}/`)).status, 201);
    await lb2.shutdown();
    await created.close();
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy forwards path and query byte-for-byte and ignores absolute-form authorities", async () => {
  const be = startBackend(echo);
  const lb = await startLb([be.url]);
  try {
    const port = lb.proxyAddr.port;
    for (const target of ["/a//b%2F/../c?x=%20&y", "/p?", "/%7e/%zz?a=b&a=c", "/"]) {
      const out = await rawRequest(
        port,
        `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`,
      );
      const seen = JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4));
      assert.equal(targetOf(seen.url), target);
    }
    const before = be.seen.length;
    const out = await rawRequest(
      port,
      "GET http://evil.example:9/steal HTTP/1.1\r\nHost: evil.example:9\r\nConnection: close\r\n\r\n",
    );
    assert.match(out, /^HTTP\/1\.1 200/);
    assert.equal(be.seen.length, before + 1, "the configured backend was dialled");
    assert.equal(targetOf(be.seen.at(-1)!.url), "/steal");
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy removes hop-by-hop headers and sets forwarding headers both ways", async () => {
  const be = startBackend((req) =>
    new Response(JSON.stringify([...req.headers]), {
      headers: [
        ["connection", "x-private"],
        ["x-private", "1"],
        ["keep-alive", "timeout=5"],
        ["x-kept", "yes"],
        ["set-cookie", "a=1; Path=/"],
        ["set-cookie", "b=2; Path=/"],
      ],
    })
  );
  const lb = await startLb([be.url]);
  try {
    const r = await nodeRequest(`${lb.url}/h`, {
      headers: {
        host: "shop.example",
        connection: "keep-alive, x-secret",
        "x-secret": "drop me",
        "keep-alive": "timeout=5",
        te: "trailers",
        "proxy-connection": "keep-alive",
        upgrade: "websocket",
        "x-forwarded-for": "198.51.100.7",
        "x-forwarded-proto": "https",
        "x-request-id": "req-123",
        "x-custom": "kept",
      },
    });
    const sent = new Map<string, string>(JSON.parse(new TextDecoder().decode(r.body)));
    for (const h of ["x-secret", "keep-alive", "te", "proxy-connection", "upgrade"]) {
      assert.equal(sent.get(h), undefined, `${h} must not reach the backend`);
    }
    assert.equal(sent.get("host"), "shop.example");
    assert.equal(sent.get("x-forwarded-for"), "198.51.100.7, 127.0.0.1");
    assert.equal(sent.get("x-forwarded-proto"), "http", "client cannot claim https");
    assert.equal(sent.get("x-forwarded-host"), "shop.example");
    assert.equal(sent.get("x-request-id"), "req-123");
    assert.equal(sent.get("x-custom"), "kept");

    assert.equal(r.header("x-private"), undefined);
    assert.equal(r.header("keep-alive"), undefined);
    assert.equal(r.header("x-kept"), "yes");
    assert.equal(r.header("x-request-id"), "req-123");
    const cookies = r.rawHeaders.filter((_, i) =>
      i % 2 === 0 && r.rawHeaders[i].toLowerCase() === "set-cookie"
    )
      .length;
    assert.equal(cookies, 2, "each Set-Cookie kept separate");

    const bad = await nodeRequest(`${lb.url}/h`, { headers: { "x-request-id": "has space" } });
    const id = bad.header("x-request-id") ?? "";
    assert.match(id, /^[0-9a-f-]{36}$/, "insane request id replaced by a fresh one");
    assert.equal(
      new Map<string, string>(JSON.parse(new TextDecoder().decode(bad.body))).get("x-request-id"),
      id,
    );
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

/** Every field line of a raw head after its first line, as [lower-case name, value as sent]. */
const fieldsOf = (head: string) =>
  head.split("\r\n").slice(1).filter(Boolean).map((l) => {
    const colon = l.indexOf(":");
    return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()] as const;
  });

Deno.test("proxy drops every hop-by-hop field, and every field Connection names, in both directions", async () => {
  // The backend sends every hop-by-hop field and one Connection names, on a chunked body.
  const be = startRawBackend(async (_head, conn) => {
    await conn.write(octets(
      "HTTP/1.1 200 OK\r\nConnection: X-Private\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n" +
        "TE: trailers\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\nX-Private: 1\r\nX-Kept: yes\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    ));
  });
  const lb = await startLb([be.url]);
  const conn = await RawConn.open(lb.proxyAddr.port);
  try {
    // A POST streams its chunked body: the proxy frames it again, with its own transfer-encoding line.
    await conn.write(
      "POST /hop HTTP/1.1\r\nHost: shop.example\r\nConnection: keep-alive, X-Secret, x-other\r\n" +
        "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-Sum\r\n" +
        "Upgrade: websocket\r\nX-Secret: 1\r\nX-Other: 2\r\nX-Custom: kept\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    const r = await conn.readResponse();
    assert.equal(r.status, 200);
    assert.equal(r.text, "ok");

    const [sent] = be.requests;
    assert.ok(sent.complete);
    assert.equal(sent.content, "abc");
    const up = fieldsOf(sent.head);
    assert.deepEqual(
      up.filter(([name]) => HOP_BY_HOP.includes(name) || name === "x-secret" || name === "x-other"),
      [["transfer-encoding", "chunked"]],
      `only the proxy's own framing reaches the backend: ${sent.head}`,
    );
    assert.ok(sent.head.includes("\r\ntransfer-encoding: chunked"), "spelled as the proxy writes it");
    assert.deepEqual(up.filter(([name]) => name === "x-custom"), [["x-custom", "kept"]]);

    const down = fieldsOf(r.raw.slice(0, r.raw.indexOf("\r\n\r\n")));
    assert.deepEqual(
      down.filter(([name]) => HOP_BY_HOP.includes(name) || name === "x-private"),
      [["transfer-encoding", "chunked"]],
      `only the listener's own framing reaches the client: ${r.raw}`,
    );
    assert.ok(r.raw.includes("\r\ntransfer-encoding: chunked\r\n"), "spelled as the listener writes it");
    assert.deepEqual(down.filter(([name]) => name === "x-kept"), [["x-kept", "yes"]]);
  } finally {
    await conn.close();
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy passes an X-Request-Id of up to 200 printable bytes and replaces a longer one", async () => {
  const be = startBackend((req) => new Response(req.headers.get("x-request-id")));
  const lb = await startLb([be.url]);
  try {
    for (const [id, kept] of [["r".repeat(200), true], ["r".repeat(201), false], ["a\tb", false]] as const) {
      const r = await nodeRequest(`${lb.url}/`, { headers: { "x-request-id": id } });
      const answered = r.header("x-request-id");
      assert.equal(new TextDecoder().decode(r.body), answered, "the backend and the client see one id");
      if (kept) assert.equal(answered, id, `${id.length} bytes kept`);
      else {assert.match(
          answered ?? "",
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        );}
    }
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy passes gzip responses byte-identical and never follows redirects", async () => {
  const plain = new TextEncoder().encode("hello ".repeat(1000));
  const gz = new Uint8Array(
    await new Response(new Blob([plain]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
  );
  const be = startBackend((req) =>
    new URL(req.url).pathname === "/gz"
      ? new Response(gz, { headers: { "content-encoding": "gzip", "content-type": "text/plain" } })
      : new Response(null, { status: 302, headers: { location: "/elsewhere" } })
  );
  const lb = await startLb([be.url], "expose_backend_header: true");
  try {
    const r = await nodeRequest(`${lb.url}/gz`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(r.header("content-encoding"), "gzip");
    assert.deepEqual(r.body, gz);
    assert.equal(r.header("x-lb-backend"), "b0");
    const redirect = await nodeRequest(`${lb.url}/old`);
    assert.equal(redirect.status, 302);
    assert.equal(redirect.header("location"), "/elsewhere");
    assert.equal(be.seen.filter((q) => q.url.endsWith("/elsewhere")).length, 0);
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy keeps HEAD, 204 and 304 bodiless with their headers", async () => {
  const be = startBackend((req) => {
    const p = new URL(req.url).pathname;
    if (p === "/204") return new Response(null, { status: 204, headers: { "x-a": "1" } });
    if (p === "/304") return new Response(null, { status: 304, headers: { etag: '"v1"' } });
    return new Response("twelve bytes");
  });
  const lb = await startLb([be.url]);
  try {
    const head = await rawRequest(
      lb.proxyAddr.port,
      "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, /content-length: 12\r\n/i);
    assert.ok(head.endsWith("\r\n\r\n"), "no body after HEAD");
    const r204 = await nodeRequest(`${lb.url}/204`);
    assert.equal(r204.status, 204);
    assert.equal(r204.header("x-a"), "1");
    const r304 = await nodeRequest(`${lb.url}/304`);
    assert.equal(r304.status, 304);
    assert.equal(r304.header("etag"), '"v1"');
  } finally {
    await lb.shutdown();
    await be.close();
  }
});
