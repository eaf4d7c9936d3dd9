import assert from "node:assert/strict";
import type { StatusReport } from "../../../lib/admin/status_report.ts";
import { startBackend, startLb, startLbFrom } from "../../_util/harness.ts";

Deno.test("GET /api/stats reports per-backend window numbers that add up", async () => {
  const ok = startBackend();
  const failing = startBackend(() => new Response("no", { status: 503 }));
  // Neither retried nor ejected: the failing backend's answers must show in its error ratio.
  const lb = await startLb(
    [ok.url, failing.url],
    "retries: {attempts: 0}\npassive: {consecutive_failures: 0}",
  );
  try {
    for (let i = 0; i < 40; i++) await (await fetch(lb.url)).arrayBuffer();
    const r = await fetch(`${lb.adminUrl}/api/stats`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("cache-control"), "no-store");
    const report = await r.json() as StatusReport;
    assert.equal(report.window_seconds, 60);
    assert.deepEqual(report.services.map((s) => s.name), ["default"]);
    const [svc] = report.services;
    assert.equal(svc.strategy, "round_robin");
    assert.ok(report.available.includes("round_robin"));
    assert.equal(report.token_required, false);
    assert.deepEqual(svc.backends.map((b) => [b.name, b.state, b.requests]), [
      ["b0", "healthy", 20],
      ["b1", "healthy", 20],
    ]);
    assert.equal(svc.backends[0].error_ratio, 0);
    assert.equal(svc.backends[1].error_ratio, 1);
    assert.equal(svc.backends.reduce((n, b) => n + b.share, 0), 1);
    for (const b of svc.backends) {
      assert.ok(b.rate > 0 && Number.isFinite(b.rate), `${b.name} rate ${b.rate}`);
      assert.ok(b.p50 !== null && b.p99 !== null && b.p50 <= b.p99, `${b.name} ${b.p50} ${b.p99}`);
      assert.equal(b.in_flight, 0);
    }
    assert.equal(svc.unavailable, 0);
    assert.equal(report.unrouted, 0);
    const narrow = await (await fetch(`${lb.adminUrl}/api/stats?window=5`)).json() as StatusReport;
    assert.equal(narrow.window_seconds, 5);
    assert.equal(narrow.services[0].backends[0].per_second.length, 4);
    const capped = await (await fetch(`${lb.adminUrl}/api/stats?window=600`)).json() as StatusReport;
    assert.equal(capped.window_seconds, 60);
    for (const bad of ["0", "-1", "soon"]) {
      const res = await fetch(`${lb.adminUrl}/api/stats?window=${bad}`);
      assert.equal(res.status, 400, bad);
      await res.body?.cancel();
    }
  } finally {
    await lb.shutdown();
    await Promise.all([ok.close(), failing.close()]);
  }
});

Deno.test("GET /api/stats counts requests that found no eligible backend as the service's unavailable", async () => {
  const be = startBackend();
  be.healthy = false;
  const lb = await startLb([be.url]);
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal((await fetch(lb.url).then(async (r) => (await r.body?.cancel(), r))).status, 503);
    }
    const report = await (await fetch(`${lb.adminUrl}/api/stats`)).json() as StatusReport;
    assert.equal(report.services[0].unavailable, 3);
    assert.equal(report.unrouted, 0, "they matched a route");
    assert.deepEqual(report.services[0].backends.map((b) => [b.state, b.requests, b.share]), [[
      "unhealthy",
      0,
      0,
    ]]);
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("GET /api/stats lists each service's strategy switches within the window, with their age", async () => {
  const backends = [startBackend(), startBackend()];
  const lb = await startLbFrom(`
services:
  web: {backends: [{name: w1, url: "${backends[0].url}"}]}
  api: {strategy: peak_ewma, backends: [{name: a1, url: "${backends[1].url}"}]}
routes:
  - {match: {path_prefix: /api}, service: api}
  - service: web
`);
  const stats = async (window = 60) =>
    await (await fetch(`${lb.adminUrl}/api/stats?window=${window}`)).json() as StatusReport;
  try {
    assert.deepEqual((await stats()).services.map((s) => s.strategy_changes), [[], []]);
    const put = await fetch(`${lb.adminUrl}/api/services/web/strategy`, {
      method: "PUT",
      body: JSON.stringify({ strategy: "least_connections" }),
    });
    assert.equal(put.status, 200);
    await put.body?.cancel();
    const before = performance.now();
    const [web, api] = (await stats()).services;
    assert.equal(api.strategy_changes.length, 0, "the other service did not switch");
    assert.equal(web.strategy_changes.length, 1);
    const [change] = web.strategy_changes;
    assert.deepEqual([change.from, change.to], ["round_robin", "least_connections"]);
    assert.ok(change.seconds_ago >= 0 && change.seconds_ago < 1, `${change.seconds_ago} s ago`);
    await new Promise((r) => setTimeout(r, 1100 - (performance.now() - before)));
    assert.deepEqual((await stats(1)).services[0].strategy_changes, [], "older than a 1 s window");
    assert.equal((await stats(2)).services[0].strategy_changes.length, 1);
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});

Deno.test("GET / serves the self-contained status page", async () => {
  const be = startBackend();
  const lb = await startLb([be.url]);
  try {
    const r = await fetch(`${lb.adminUrl}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/html/);
    const html = await r.text();
    assert.match(html, /<script>[\s\S]*fetch\("\/api\/stats"/);
    // Offline: no external scripts, styles or fonts.
    assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//);
    assert.equal(
      (await fetch(`${lb.adminUrl}/`, { method: "POST" }).then(async (x) => (await x.body?.cancel(), x)))
        .status,
      405,
    );
  } finally {
    await lb.shutdown();
    await be.close();
  }
});
