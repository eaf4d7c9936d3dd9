import assert from "node:assert/strict";
import { scrape, startBackend, startLb } from "../../_util/harness.ts";
import { sleep, steadyLoad } from "../../_util/load.ts";

function strategyInfo(metrics: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of metrics) {
    const m = /^lb_strategy_info\{service="default",strategy="([^"]+)"\}$/.exec(key);
    if (m) out[m[1]] = value;
  }
  return out;
}

Deno.test("PUT /api/strategy under steady load fails no request and lb_strategy_info follows", async () => {
  const backends = [0, 1, 2].map((i) => startBackend(async () => (await sleep(i), new Response(`b${i}`))));
  const lb = await startLb(backends.map((b) => b.url));
  try {
    const { available } = await (await fetch(`${lb.adminUrl}/api/strategy`)).json() as {
      available: string[];
    };
    const stop = new AbortController();
    const load = steadyLoad(lb.url, {
      concurrency: 6,
      maxRequests: 4000,
      maxMs: 10_000,
      signal: stop.signal,
    });
    // Every registered strategy at least twice, while requests are in flight.
    const order = [...available, ...available];
    if (order.length < 4) order.push(...available, ...available);
    for (const strategy of order) {
      await sleep(60);
      const put = await fetch(`${lb.adminUrl}/api/strategy`, {
        method: "PUT",
        body: JSON.stringify({ strategy }),
      });
      assert.equal(put.status, 200, await put.text());
      assert.equal((await (await fetch(`${lb.adminUrl}/api/strategy`)).json()).strategy, strategy);
      assert.deepEqual(strategyInfo(await scrape(lb)), { [strategy]: 1 });
    }
    await sleep(60);
    stop.abort();
    const result = await load;
    assert.deepEqual(result.failures, []);
    assert.equal(result.truncated, 0);
    assert.deepEqual([...result.statuses.keys()], [200], `statuses ${JSON.stringify([...result.statuses])}`);
    const served = result.statuses.get(200)!;
    assert.ok(served >= 100, `load too small to mean anything: ${served}`);
    // Every answered request is counted exactly once, under whichever strategy picked it.
    const metrics = await scrape(lb);
    const counted = [...metrics].filter(([k]) => k.startsWith("lb_requests_total{"))
      .reduce((n, [, v]) => n + v, 0);
    assert.equal(counted, served);
    assert.equal(
      lb.pool.all().reduce((n, b) => n + b.inFlight, 0),
      0,
      "in-flight accounting returns to zero",
    );
    if (available.length === 1) console.log(`only ${available[0]} is registered: every switch was a no-op`);
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});

Deno.test("PUT /api/strategy needs the bearer token when admin.token is set", async () => {
  const be = startBackend();
  const lb = await startLb([be.url], `admin: {listen: "127.0.0.1:0", token: "t0ken"}\n`);
  const put = (body: unknown, auth?: string) =>
    fetch(`${lb.adminUrl}/api/strategy`, {
      method: "PUT",
      headers: auth ? { authorization: auth } : {},
      body: JSON.stringify(body),
    });
  try {
    const { strategy } = await (await fetch(`${lb.adminUrl}/api/strategy`)).json();
    for (const auth of [undefined, "Bearer wrong", "t0ken", "Basic dDBrZW4=", "Bearer t0ken2"]) {
      const r = await put({ strategy }, auth);
      assert.equal(r.status, 401, `authorization ${auth}`);
      assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer /);
      await r.body?.cancel();
    }
    const ok = await put({ strategy }, "Bearer t0ken");
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { service: "default", strategy, previous: strategy });
    const unknown = await put({ strategy: "fastest" }, "Bearer t0ken");
    assert.equal(unknown.status, 400);
    assert.match((await unknown.json()).error, /unknown strategy "fastest"; valid: .*round_robin/);
    const alias = await put({ strategy: "RoundRobin" }, "Bearer t0ken");
    assert.equal((await alias.json()).strategy, "round_robin");
    // Reading stays open: the status page and dashboards poll without the token.
    for (const path of ["/api/strategy", "/api/stats", "/"]) {
      const r = await fetch(lb.adminUrl + path);
      assert.equal(r.status, 200, path);
      await r.body?.cancel();
    }
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("PUT /api/strategy needs no token when admin.token is empty and rejects bad bodies", async () => {
  const be = startBackend();
  const lb = await startLb([be.url]);
  try {
    const ok = await fetch(`${lb.adminUrl}/api/strategy`, {
      method: "PUT",
      body: '{"strategy":"round_robin"}',
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    for (const body of ["", "not json", "[]", '{"strategy": 3}']) {
      const r = await fetch(`${lb.adminUrl}/api/strategy`, { method: "PUT", body });
      assert.equal(r.status, 400, body);
      await r.body?.cancel();
    }
  } finally {
    await lb.shutdown();
    await be.close();
  }
});
