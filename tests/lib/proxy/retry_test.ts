import assert from "node:assert/strict";
import { nodeRequest, scrape, startBackend, startLb, waitFor } from "../../_util/harness.ts";

const text = (r: { body: Uint8Array }) => new TextDecoder().decode(r.body);

/** b0 answers 503 with a long streamed body (tracked), b1 echoes method and body. */
function failingPair() {
  const state = { cancelled: 0, streamed: 0 };
  const bad = startBackend(() => {
    state.streamed++;
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 5));
        c.enqueue(new Uint8Array(16 * 1024).fill(97));
        if (++i === 50) c.close();
      },
      cancel() {
        state.cancelled++;
      },
    });
    return new Response(body, { status: 503 });
  });
  const good = startBackend(async (req) => new Response(`${req.method} ${req.body ? await req.text() : ""}`));
  return { bad, good, state, close: () => Promise.all([bad.close(), good.close()]) };
}

// Interval long enough that health checks never change state during a test.
const QUIET = "health_check: {interval: 1m, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}\n";

Deno.test("proxy retries an idempotent request on another backend and discards the 5xx body", async () => {
  const p = failingPair();
  const lb = await startLb([p.bad.url, p.good.url], QUIET);
  try {
    const r = await nodeRequest(`${lb.url}/x`); // round robin: b0 first
    assert.equal(r.status, 200);
    assert.equal(text(r), "GET ");
    assert.equal(p.state.streamed, 1);
    await waitFor(() => p.state.cancelled === 1, 2000, "the failed attempt's body to be cancelled");
    const m = await scrape(lb);
    assert.equal(m.get('lb_retries_total{service="default",backend="b0",reason="503"}'), 1);
    assert.equal(m.get('lb_active_connections{service="default",backend="b0"}'), 0);
    assert.equal(m.get('lb_active_connections{service="default",backend="b1"}'), 0);
    assert.equal(
      m.get(
        'lb_requests_total{service="default",backend="b1",strategy="round_robin",method="GET",code="200",protocol="http/1.1"}',
      ),
      1,
    );
  } finally {
    await lb.shutdown();
    await p.close();
  }
});

Deno.test("proxy replays a small PUT body and never retries POST or bodies over max_body", async () => {
  const p = failingPair();
  const lb = await startLb([p.bad.url, p.good.url], `${QUIET}retries: {max_body: 1KiB}\n`);
  try {
    const put = await nodeRequest(`${lb.url}/a`, { method: "PUT", body: "small body" });
    assert.equal(put.status, 200);
    assert.equal(text(put), "PUT small body", "the retry carried the whole body");

    const post = await nodeRequest(`${lb.url}/b`, { method: "POST", body: "x" }); // b0 again
    assert.equal(post.status, 503, "POST is not idempotent: never retried");
    assert.equal(p.good.seen.length, 1);

    await nodeRequest(`${lb.url}/c`); // b1: keep the rotation on b0 for the next one
    const big = "y".repeat(4096);
    const large = await nodeRequest(`${lb.url}/d`, { method: "PUT", body: big });
    assert.equal(large.status, 503, "a body over max_body was streamed once and is not replayed");
    const m = await scrape(lb);
    assert.equal(m.get('lb_retries_total{service="default",backend="b0",reason="503"}'), 1);
  } finally {
    await lb.shutdown();
    await p.close();
  }
});

Deno.test("proxy retries a connection failure on another backend", async () => {
  const dead = startBackend();
  const good = startBackend(() => new Response("alive"));
  const lb = await startLb([dead.url, good.url], QUIET);
  try {
    await dead.close();
    for (let i = 0; i < 4; i++) {
      const r = await nodeRequest(`${lb.url}/`);
      assert.equal(r.status, 200);
      assert.equal(text(r), "alive");
    }
    const m = await scrape(lb);
    assert.equal(
      m.get('lb_retries_total{service="default",backend="b0",reason="connect_failure"}'),
      4,
      "round robin resumes after b1: b0 first every time",
    );
    assert.equal(m.get('lb_upstream_errors_total{service="default",backend="b0",kind="connect"}'), 4);
  } finally {
    await lb.shutdown();
    await good.close();
  }
});

Deno.test("proxy stops retrying when the budget is spent and counts it", async () => {
  const p = failingPair();
  const lb = await startLb([p.bad.url, p.good.url], `${QUIET}retries: {budget: 0, min_per_second: 0}\n`);
  try {
    const r = await nodeRequest(`${lb.url}/`);
    assert.equal(r.status, 503, "no budget: the backend's answer goes to the client");
    assert.equal(r.body.length, 50 * 16 * 1024, "and its body is relayed whole");
    const m = await scrape(lb);
    assert.equal(m.get(`lb_retry_budget_exhausted_total{service="default"}`), 1);
    assert.equal(m.get('lb_retries_total{service="default",backend="b0",reason="503"}'), undefined);
  } finally {
    await lb.shutdown();
    await p.close();
  }
});

Deno.test("proxy retries on the same backend when it is the only one, up to attempts", async () => {
  let calls = 0;
  const flaky = startBackend(() => new Response(null, { status: ++calls < 3 ? 502 : 200 }));
  const lb = await startLb([flaky.url], `${QUIET}passive: {consecutive_failures: 0}\n`);
  try {
    assert.equal((await nodeRequest(`${lb.url}/`)).status, 200);
    assert.equal(calls, 3, "one try and two retries");
    calls = -10;
    assert.equal(
      (await nodeRequest(`${lb.url}/`)).status,
      502,
      "attempts exhausted: the last answer is relayed",
    );
    assert.equal(calls, -7);
  } finally {
    await lb.shutdown();
    await flaky.close();
  }
});

Deno.test("proxy retries on backends not tried yet even when the strategy would pick the same one (ip_hash)", async () => {
  // ip_hash sends every request from 127.0.0.1 to one backend: only the exclusion of tried
  // backends can move a retry elsewhere.
  const failing = [false, false, false];
  const seen: number[] = [];
  const backends = [0, 1, 2].map((i) =>
    startBackend(() => {
      seen.push(i);
      return new Response(`b${i}`, { status: failing[i] ? 503 : 200 });
    })
  );
  const lb = await startLb(
    backends.map((b) => b.url),
    `${QUIET}strategy: ip_hash\npassive: {consecutive_failures: 0}\n`,
  );
  try {
    for (let i = 0; i < 3; i++) assert.equal((await nodeRequest(`${lb.url}/`)).status, 200);
    assert.equal(new Set(seen).size, 1, `ip_hash keeps one client on one backend: ${seen}`);
    const [home] = seen;

    // Its backend fails: the retry goes to another one.
    failing[home] = true;
    seen.length = 0;
    const once = await nodeRequest(`${lb.url}/`);
    assert.equal(once.status, 200);
    assert.equal(seen.length, 2);
    assert.equal(seen[0], home);
    assert.notEqual(seen[1], home, "the retry went to a backend not tried yet");
    assert.equal(text(once), `b${seen[1]}`);

    // Two fail: each of the two retries goes to a backend not tried yet, so all three are tried once.
    failing[seen[1]] = true;
    seen.length = 0;
    const twice = await nodeRequest(`${lb.url}/`);
    assert.equal(twice.status, 200);
    assert.deepEqual([...seen].sort(), [0, 1, 2], `attempts went to ${seen}`);
    assert.equal(seen[0], home);
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});
