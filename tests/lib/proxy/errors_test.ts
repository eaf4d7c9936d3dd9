import assert from "node:assert/strict";
import { nodeRequest, scrape, startBackend, startLb, waitFor } from "../../_util/harness.ts";
import { startRawBackend } from "../../_util/raw_backend.ts";
import { octets, RawConn } from "../../_util/raw_http.ts";

const text = (r: { body: Uint8Array }) => new TextDecoder().decode(r.body);

Deno.test("proxy answers 503 with Retry-After when no backend is eligible", async () => {
  const dead = startBackend();
  await dead.close();
  const lb = await startLb([dead.url]);
  try {
    const r = await nodeRequest(`${lb.url}/`);
    assert.equal(r.status, 503);
    assert.ok(Number(r.header("retry-after")) >= 1);
    assert.match(text(r), /no healthy backend/);
    const m = await scrape(lb);
    assert.equal(
      m.get(
        'lb_requests_total{service="default",backend="none",strategy="round_robin",method="GET",code="503",protocol="http/1.1"}',
      ),
      1,
    );
  } finally {
    await lb.shutdown();
  }
});

Deno.test("proxy answers 502 when the backend resets the connection", async () => {
  // A TCP server that answers health checks and slams the door on everything else.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  (async () => {
    for await (const conn of listener) {
      (async () => {
        const buf = new Uint8Array(4096);
        const n = await conn.read(buf).catch(() => null);
        const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
        if (head.startsWith("GET /health ")) {
          await conn.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")).catch(
            () => {},
          );
        }
        conn.close();
      })();
    }
  })();
  const lb = await startLb([`http://127.0.0.1:${port}`], "retries: {attempts: 0}");
  try {
    const r = await nodeRequest(`${lb.url}/boom`);
    assert.equal(r.status, 502);
    assert.match(text(r), /^502 Bad Gateway: upstream reset failed/);
    const m = await scrape(lb);
    assert.equal(m.get('lb_upstream_errors_total{service="default",backend="b0",kind="reset"}'), 1);
    assert.equal(
      m.get(
        'lb_requests_total{service="default",backend="b0",strategy="round_robin",method="GET",code="502",protocol="http/1.1"}',
      ),
      1,
    );
    assert.equal(m.get('lb_active_connections{service="default",backend="b0"}'), 0);
  } finally {
    await lb.shutdown();
    listener.close();
  }
});

Deno.test("proxy answers 502 when the backend refuses connections", async () => {
  const be = startBackend();
  const lb = await startLb([be.url], "health_check: {interval: 1m}\nretries: {attempts: 0}");
  try {
    await be.close();
    // The next health check is a minute away, so the request meets a closed port.
    const r = await nodeRequest(`${lb.url}/`);
    assert.equal(r.status, 502);
    assert.match(text(r), /upstream connect failed/);
    const m = await scrape(lb);
    assert.equal(m.get('lb_upstream_errors_total{service="default",backend="b0",kind="connect"}'), 1);
  } finally {
    await lb.shutdown();
  }
});

Deno.test("proxy answers 504 when no response headers arrive within timeouts.request", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const be = startBackend(async () => {
    await gate;
    return new Response("late");
  });
  const lb = await startLb([be.url], "timeouts: {request: 200ms}");
  try {
    const t0 = performance.now();
    const r = await nodeRequest(`${lb.url}/slow`);
    const took = performance.now() - t0;
    assert.equal(r.status, 504);
    assert.ok(took >= 190 && took < 2000, `took ${took}ms`);
    const m = await scrape(lb);
    assert.equal(m.get('lb_upstream_errors_total{service="default",backend="b0",kind="timeout"}'), 1);
    assert.equal(m.get('lb_active_connections{service="default",backend="b0"}'), 0);
  } finally {
    release();
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy aborts the upstream request when the client disconnects, and in-flight returns to 0", async () => {
  let upstreamAborted = 0;
  let arrived = 0;
  const be = startBackend((req) => {
    arrived++;
    return new Promise((resolve) => {
      req.signal.addEventListener("abort", () => {
        upstreamAborted++;
        resolve(new Response("never seen"));
      });
    });
  });
  const lb = await startLb([be.url]);
  try {
    const ac = new AbortController();
    const pending = fetch(`${lb.url}/hang`, { signal: ac.signal }).catch((e) => e);
    await waitFor(() => arrived === 1, 2000, "request to reach the backend");
    assert.equal((await scrape(lb)).get('lb_active_connections{service="default",backend="b0"}'), 1);
    ac.abort();
    await pending;
    await waitFor(() => upstreamAborted === 1, 2000, "upstream abort");
    await waitFor(
      async () => (await scrape(lb)).get('lb_active_connections{service="default",backend="b0"}') === 0,
      2000,
      "in-flight 0",
    );
    assert.equal(lb.pool.get("b0")!.inFlight, 0);
    // Counted once, as 499 for the backend it was waiting on, as NGINX logs a client that left.
    const m = await scrape(lb);
    assert.equal(
      m.get(
        'lb_requests_total{service="default",backend="b0",strategy="round_robin",method="GET",code="499",protocol="http/1.1"}',
      ),
      1,
    );
    assert.equal(
      m.get('lb_request_duration_seconds_count{service="default",backend="b0",strategy="round_robin"}'),
      1,
    );
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy frees in-flight when the client cancels mid-response, and leaves completed responses alone", async () => {
  let cancelled = 0;
  let completed = 0;
  const be = startBackend((req) => {
    const slow = new URL(req.url).pathname === "/endless";
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 10));
        c.enqueue(new TextEncoder().encode(`chunk ${i}\n`));
        if (!slow && ++i === 5) {
          c.close();
          completed++;
        }
      },
      cancel() {
        cancelled++;
      },
    });
    return new Response(body);
  });
  const lb = await startLb([be.url]);
  try {
    // Successful streaming response: every chunk arrives, nothing is aborted afterwards.
    const ok = await fetch(`${lb.url}/five`);
    assert.equal(await ok.text(), [0, 1, 2, 3, 4].map((i) => `chunk ${i}\n`).join(""));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(completed, 1);
    assert.equal(cancelled, 0, "a completed response must not be cancelled afterwards");

    const r = await fetch(`${lb.url}/endless`);
    const reader = r.body!.getReader();
    await reader.read();
    await reader.cancel();
    await waitFor(() => lb.pool.get("b0")!.inFlight === 0, 3000, "in-flight back to 0");
    await waitFor(() => cancelled === 1, 3000, "backend stream cancelled");
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy answers 400 to a streamed body whose chunked framing breaks, 499 to one the client abandons", async () => {
  const be = startRawBackend(async (_head, conn) => {
    await conn.write(octets("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
  });
  const lb = await startLb([be.url]);
  const head = (path: string) => `POST ${path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n`;
  try {
    // The body breaks a while after its head and first chunk went upstream (a POST streams).
    for (const [path, rest, status] of [["/broken", "zz\r\n", 400], ["/abandoned", "", 499]] as const) {
      const conn = await RawConn.open(lb.proxyAddr.port);
      try {
        await conn.write(`${head(path)}5\r\nhello\r\n`);
        await waitFor(
          () => be.requests.some((r) => r.head.startsWith(`POST ${path} `)),
          2000,
          "the head upstream",
        );
        // Past the 20 ms after which the upstream client watches the client's signal.
        await new Promise((r) => setTimeout(r, 30));
        if (rest) await conn.write(rest);
        await conn.closeWrite();
        const r = await conn.readResponse();
        assert.equal(r.status, status, path);
        await conn.readToEnd();
      } finally {
        await conn.close();
      }
      const got = be.requests.filter((r) => r.head.startsWith(`POST ${path} `));
      assert.equal(got.length, 1, path);
      assert.equal(got[0].complete, false, `${path}: the backend never got it whole`);
      assert.equal(got[0].content, "hello", `${path}: only the chunk before the break`);
    }
    const m = await scrape(lb);
    assert.equal(
      m.get(
        'lb_requests_total{service="default",backend="b0",strategy="round_robin",method="POST",code="400",protocol="http/1.1"}',
      ),
      1,
    );
    assert.equal(
      m.get(
        'lb_requests_total{service="default",backend="b0",strategy="round_robin",method="POST",code="499",protocol="http/1.1"}',
      ),
      1,
    );
    assert.equal(lb.pool.get("b0")!.inFlight, 0);
  } finally {
    await lb.shutdown();
    await be.close();
  }
});
