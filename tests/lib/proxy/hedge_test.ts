import assert from "node:assert/strict";
import type { AccessRecord } from "../../../lib/access_log/mod.ts";
import {
  nodeRequest,
  scrape,
  startBackend,
  startLb,
  type TestBackend,
  waitFor,
} from "../../_util/harness.ts";

const text = (r: { body: Uint8Array }) => new TextDecoder().decode(r.body);
// Health checks never change state during a test.
const QUIET = "health_check: {interval: 1m, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}\n";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What one request to a backend saw. */
interface Arrival {
  readonly backend: string;
  readonly port: number;
  readonly body: string;
  aborted: boolean;
}

/**
 * Two backends sharing one script: the n-th request to arrive at either of them waits
 * `delays[n]` ms (0 past the end) and answers `statuses[n]` (200 past the end) with its
 * backend's name and the request body. Each arrival records whether the proxy aborted it.
 */
function scripted(delays: number[], statuses: number[] = [], count = 2) {
  const arrivals: Arrival[] = [];
  const make = (name: string): TestBackend =>
    startBackend(async (req, info) => {
      const n = arrivals.length;
      const a: Arrival = {
        backend: name,
        port: (info.remoteAddr as Deno.NetAddr).port,
        body: req.body ? await req.text() : "",
        aborted: false,
      };
      arrivals.push(a);
      req.signal.addEventListener("abort", () => a.aborted = true);
      await sleep(delays[n] ?? 0);
      return new Response(`${name} ${a.body}`, { status: statuses[n] ?? 200 });
    });
  const backends = Array.from({ length: count }, (_, i) => make(`b${i}`));
  return { backends, arrivals, close: () => Promise.all(backends.map((b) => b.close())) };
}

async function hedgeMetrics(lb: Parameters<typeof scrape>[0]) {
  const m = await scrape(lb);
  const get = (name: string) => m.get(`${name}{service="default"}`);
  return {
    sent: get("lb_hedges_total"),
    won: get("lb_hedges_won_total"),
    lost: get("lb_hedges_lost_total"),
    refused: get("lb_hedge_budget_exhausted_total"),
    m,
  };
}

Deno.test("proxy hedges a slow GET to the other backend; the hedge wins and the slow attempt is closed", async () => {
  const s = scripted([1_000]);
  const states: AccessRecord[] = [];
  const lb = await startLb(s.backends.map((b) => b.url), `${QUIET}hedging: {delay: 50ms, max_ratio: 1}\n`, {
    onRequest: (st) => states.push(st),
  });
  try {
    const started = performance.now();
    const r = await nodeRequest(`${lb.url}/x`);
    const ms = performance.now() - started;
    assert.equal(r.status, 200);
    assert.equal(s.arrivals.length, 2);
    assert.equal(text(r), `${s.arrivals[1].backend} `, "the hedge's response");
    assert.notEqual(s.arrivals[0].backend, s.arrivals[1].backend, "sent to a different backend");
    assert.ok(ms < 700, `answered after about the delay, not the slow second: ${ms.toFixed(0)} ms`);
    await waitFor(() => s.arrivals[0].aborted, 2_000, "the slow attempt's connection to be closed");
    const h = await hedgeMetrics(lb);
    assert.deepEqual([h.sent, h.won, h.lost, h.refused], [1, 1, 0, 0]);
    for (const b of ["b0", "b1"]) {
      assert.equal(h.m.get(`lb_active_connections{service="default",backend="${b}"}`), 0);
      for (const kind of ["connect", "timeout", "reset"]) {
        assert.equal(h.m.get(`lb_upstream_errors_total{service="default",backend="${b}",kind="${kind}"}`), 0);
      }
    }
    assert.equal(lb.outliers.status(lb.pool.get(s.arrivals[0].backend)!).consecutiveFailures, 0);
    assert.deepEqual(states.map((st) => [st.status, st.attempts, st.hedge]), [[
      200,
      2,
      { backend: s.arrivals[1].backend, winner: "hedge" },
    ]]);
  } finally {
    await lb.shutdown();
    await s.close();
  }
});

Deno.test("proxy relays the first attempt when it answers before its hedge, and cancels the hedge", async () => {
  const s = scripted([150, 1_000]);
  const states: AccessRecord[] = [];
  const lb = await startLb(s.backends.map((b) => b.url), `${QUIET}hedging: {delay: 50ms, max_ratio: 1}\n`, {
    onRequest: (st) => states.push(st),
  });
  try {
    const r = await nodeRequest(`${lb.url}/x`);
    assert.equal(text(r), `${s.arrivals[0].backend} `);
    await waitFor(() => s.arrivals[1]?.aborted === true, 2_000, "the hedge's connection to be closed");
    const h = await hedgeMetrics(lb);
    assert.deepEqual([h.sent, h.won, h.lost], [1, 0, 1]);
    assert.equal(states[0].hedge?.winner, "first");
  } finally {
    await lb.shutdown();
    await s.close();
  }
});

Deno.test("proxy counts a hedge the budget refuses, and hedges once requests have paid for it", async () => {
  const s = scripted([300]);
  const lb = await startLb(s.backends.map((b) => b.url), `${QUIET}hedging: {delay: 50ms, max_ratio: 0.05}\n`);
  try {
    const first = await nodeRequest(`${lb.url}/x`);
    assert.equal(text(first), `${s.arrivals[0].backend} `, "no hedge: the slow answer");
    assert.equal(s.arrivals.length, 1);
    let h = await hedgeMetrics(lb);
    assert.deepEqual([h.sent, h.refused], [0, 1]);
    // 19 more requests make 20: 5% of them is one hedge.
    for (let i = 0; i < 19; i++) await nodeRequest(`${lb.url}/x`);
    const slowAgain = s.arrivals.length;
    s.arrivals.length = 0; // the script starts over: the next arrival is slow again
    const r = await nodeRequest(`${lb.url}/x`);
    assert.equal(s.arrivals.length, 2, `hedged (after ${slowAgain} requests)`);
    assert.equal(text(r), `${s.arrivals[1].backend} `);
    h = await hedgeMetrics(lb);
    assert.deepEqual([h.sent, h.won, h.refused], [1, 1, 1]);
  } finally {
    await lb.shutdown();
    await s.close();
  }
});

Deno.test("proxy never hedges a POST, a body too large to replay, or a lone backend", async () => {
  const s = scripted([200, 200, 200]);
  const lb = await startLb(
    s.backends.map((b) => b.url),
    `${QUIET}hedging: {delay: 20ms, max_ratio: 1}\nretries: {max_body: 1KiB}\n`,
  );
  const lone = scripted([200]);
  const single = await startLb([lone.backends[0].url], `${QUIET}hedging: {delay: 20ms, max_ratio: 1}\n`);
  try {
    const post = await nodeRequest(`${lb.url}/x`, { method: "POST", body: "p" });
    assert.equal(text(post), `${s.arrivals[0].backend} p`);
    const big = "y".repeat(4096);
    const put = await nodeRequest(`${lb.url}/x`, { method: "PUT", body: big });
    assert.equal(text(put), `${s.arrivals[1].backend} ${big}`);
    assert.equal(s.arrivals.length, 2, "neither was sent twice");
    const h = await hedgeMetrics(lb);
    assert.deepEqual([h.sent, h.refused], [0, 0]);

    const alone = await nodeRequest(`${single.url}/x`);
    assert.equal(alone.status, 200);
    assert.equal(lone.arrivals.length, 1);
    const hs = await hedgeMetrics(single);
    assert.deepEqual([hs.sent, hs.refused], [0, 0], "no other backend: no hedge, and no budget spent");
  } finally {
    await lb.shutdown();
    await single.shutdown();
    await s.close();
    await lone.close();
  }
});

Deno.test("proxy replays a small PUT body to the hedge", async () => {
  const s = scripted([1_000]);
  const lb = await startLb(s.backends.map((b) => b.url), `${QUIET}hedging: {delay: 30ms, max_ratio: 1}\n`);
  try {
    const r = await nodeRequest(`${lb.url}/x`, { method: "PUT", body: "the same body twice" });
    assert.equal(r.status, 200);
    assert.deepEqual(s.arrivals.map((a) => a.body), ["the same body twice", "the same body twice"]);
    assert.equal(text(r), `${s.arrivals[1].backend} the same body twice`);
  } finally {
    await lb.shutdown();
    await s.close();
  }
});

Deno.test("proxy waits out a retriable 503 for its hedge, and reuses the 503's finished connection", async () => {
  // The first attempt answers 503 after the hedge went out; the hedge answers 200 later.
  const s = scripted([80, 250], [503, 200]);
  const states: AccessRecord[] = [];
  const lb = await startLb(s.backends.map((b) => b.url), `${QUIET}hedging: {delay: 40ms, max_ratio: 1}\n`, {
    onRequest: (st) => states.push(st),
  });
  try {
    const r = await nodeRequest(`${lb.url}/x`);
    assert.equal(r.status, 200);
    assert.equal(text(r), `${s.arrivals[1].backend} `);
    assert.equal(states[0].hedge?.winner, "hedge");
    assert.equal(s.arrivals.length, 2, "no retry after the hedge answered");
    const loser = s.arrivals[0];
    // Two more requests: one of them goes to the 503's backend, on its pooled connection.
    await nodeRequest(`${lb.url}/x`);
    await nodeRequest(`${lb.url}/x`);
    const again = s.arrivals.slice(2).find((a) => a.backend === loser.backend);
    assert.ok(again, "a later request reached the loser's backend");
    assert.equal(again.port, loser.port, "on the same connection: a completed response's connection is kept");
    assert.equal(loser.aborted, false);
  } finally {
    await lb.shutdown();
    await s.close();
  }
});

Deno.test("proxy retries on a third backend when neither the first attempt nor its hedge answers well", async () => {
  const s = scripted([100, 150, 0], [503, 502, 200], 3);
  const states: AccessRecord[] = [];
  const lb = await startLb(s.backends.map((b) => b.url), `${QUIET}hedging: {delay: 40ms, max_ratio: 1}\n`, {
    onRequest: (st) => states.push(st),
  });
  try {
    const r = await nodeRequest(`${lb.url}/x`);
    assert.equal(r.status, 200);
    assert.equal(new Set(s.arrivals.map((a) => a.backend)).size, 3, "the retry skipped both raced backends");
    assert.equal(text(r), `${s.arrivals[2].backend} `);
    assert.deepEqual([states[0].attempts, states[0].hedge?.winner], [3, "neither"]);
    const h = await hedgeMetrics(lb);
    assert.deepEqual([h.sent, h.won, h.lost], [1, 0, 1]);
    assert.equal(
      h.m.get(`lb_retries_total{service="default",backend="${s.arrivals[0].backend}",reason="503"}`),
      1,
    );
  } finally {
    await lb.shutdown();
    await s.close();
  }
});

Deno.test("proxy gives a hedge only what is left of timeouts.request", async () => {
  const s = scripted([2_000, 2_000]);
  const lb = await startLb(
    s.backends.map((b) => b.url),
    `${QUIET}hedging: {delay: 100ms, max_ratio: 1}\ntimeouts: {request: 300ms}\nretries: {attempts: 0}\n`,
  );
  try {
    const started = performance.now();
    const r = await nodeRequest(`${lb.url}/x`);
    const ms = performance.now() - started;
    assert.equal(r.status, 504);
    assert.ok(ms < 390, `504 at the request timeout, not 100 ms later: ${ms.toFixed(0)} ms`);
    await waitFor(() => s.arrivals.every((a) => a.aborted), 2_000, "both attempts to be closed");
    const h = await hedgeMetrics(lb);
    assert.deepEqual([h.sent, h.won, h.lost], [1, 0, 1]);
  } finally {
    await lb.shutdown();
    await s.close();
  }
});

Deno.test("proxy cancels both attempts of a hedged request when the client leaves", async () => {
  const s = scripted([2_000, 2_000]);
  const lb = await startLb(s.backends.map((b) => b.url), `${QUIET}hedging: {delay: 30ms, max_ratio: 1}\n`);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: lb.proxyAddr.port });
    await conn.write(new TextEncoder().encode("GET /x HTTP/1.1\r\nhost: t\r\n\r\n"));
    await waitFor(() => s.arrivals.length === 2, 2_000, "the hedge to go out");
    conn.close();
    await waitFor(() => s.arrivals.every((a) => a.aborted), 2_000, "both attempts to be aborted");
    await waitFor(
      async () => {
        const m = (await hedgeMetrics(lb)).m;
        return [...m.entries()].some(([k, v]) =>
          k.startsWith("lb_requests_total") && k.includes('code="499"') && v === 1
        );
      },
      2_000,
      "the request to be counted as 499",
    );
    const h = await hedgeMetrics(lb);
    assert.deepEqual([h.sent, h.won, h.lost], [1, 0, 1]);
  } finally {
    await lb.shutdown();
    await s.close();
  }
});

Deno.test("proxy hedges after the service's own p95 once it has enough samples", async () => {
  const s = scripted([400]);
  const lb = await startLb(s.backends.map((b) => b.url), `${QUIET}hedging: {delay: p95, max_ratio: 1}\n`);
  try {
    await nodeRequest(`${lb.url}/x`);
    assert.equal(s.arrivals.length, 1, "no percentile yet: not hedged");
    for (let i = 0; i < 60; i++) await nodeRequest(`${lb.url}/x`);
    s.arrivals.length = 0;
    const started = performance.now();
    const r = await nodeRequest(`${lb.url}/x`);
    const ms = performance.now() - started;
    assert.equal(s.arrivals.length, 2, "hedged once 60 fast answers set the p95");
    assert.equal(text(r), `${s.arrivals[1].backend} `);
    assert.ok(ms < 300, `hedged after a few ms, not the 400 ms: ${ms.toFixed(0)} ms`);
  } finally {
    await lb.shutdown();
    await s.close();
  }
});
