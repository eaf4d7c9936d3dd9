import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { HealthCheckConfig } from "../../../lib/config/config.ts";
import { HealthChecker } from "../../../lib/pool/health.ts";
import { Metrics } from "../../../lib/metrics/proxy_metrics.ts";
import { Pool } from "../../../lib/pool/pool.ts";
import { nodeRequest, scrape, startBackend, startLb, type TestLb, waitFor } from "../../_util/harness.ts";

const CONFIG: HealthCheckConfig = {
  path: "/health",
  intervalMs: 1000,
  timeoutMs: 200,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  expectedStatus: [[200, 299]],
};

function setup() {
  const pool = new Pool([{ name: "a", url: "http://127.0.0.1:1", weight: 1 }]);
  const changes: string[] = [];
  pool.onStateChange((b, from, to) => changes.push(`${b.name}:${from}->${to}`));
  const checker = new HealthChecker(
    pool,
    CONFIG,
    new Metrics(new Registry(), false).service("default", () => []),
  );
  return { pool, b: pool.get("a")!, changes, checker };
}

const ok = { ok: true, reason: "" };

/** Wait until `backend` has had `n` more checks with `result` than `since` (from {@linkcode checks}). */
async function moreChecks(
  lb: TestLb,
  backend: string,
  result: string,
  since: number,
  n: number,
): Promise<void> {
  await waitFor(
    async () => await checks(lb, backend, result) >= since + n,
    10_000,
    `${n} more ${result} checks`,
  );
}

/** `lb_health_checks_total` of one backend and result. */
async function checks(lb: TestLb, backend: string, result: string): Promise<number> {
  return (await scrape(lb)).get(
    `lb_health_checks_total{service="default",backend="${backend}",result="${result}"}`,
  ) ?? 0;
}
const bad = { ok: false, reason: "status 500" };

Deno.test("HealthChecker.apply() lets the first result decide, then applies thresholds", () => {
  const { pool, b, changes, checker } = setup();
  checker.apply(b, ok);
  assert.equal(b.state, "healthy", "first success is enough at start");
  assert.deepEqual(pool.eligible(), [b]);
  checker.apply(b, bad);
  checker.apply(b, bad);
  assert.equal(b.state, "healthy", "two failures are below unhealthy_threshold 3");
  checker.apply(b, ok); // resets the failure streak
  checker.apply(b, bad);
  checker.apply(b, bad);
  assert.equal(b.state, "healthy");
  checker.apply(b, bad);
  assert.equal(b.state, "unhealthy");
  assert.deepEqual(pool.eligible(), []);
  checker.apply(b, ok);
  assert.equal(b.state, "unhealthy", "one success is below healthy_threshold 2");
  checker.apply(b, ok);
  assert.equal(b.state, "healthy");
  assert.deepEqual(changes, ["a:unknown->healthy", "a:healthy->unhealthy", "a:unhealthy->healthy"]);
  checker.stop();
});

Deno.test("HealthChecker.apply() marks a backend that fails its first check unhealthy at once", () => {
  const { b, checker } = setup();
  checker.apply(b, bad);
  assert.equal(b.state, "unhealthy");
  assert.equal(checker.status(b).lastError, "status 500");
  checker.stop();
});

Deno.test("HealthChecker.probe() checks status ranges and times out", async () => {
  let status = 204;
  let hang = false;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    if (hang) await new Promise((r) => setTimeout(r, 400));
    return new Response(null, { status });
  });
  const pool = new Pool([{ name: "a", url: `http://127.0.0.1:${server.addr.port}`, weight: 1 }]);
  const checker = new HealthChecker(
    pool,
    CONFIG,
    new Metrics(new Registry(), false).service("default", () => []),
  );
  try {
    assert.deepEqual(await checker.probe(pool.get("a")!), ok);
    status = 302;
    assert.deepEqual(await checker.probe(pool.get("a")!), { ok: false, reason: "status 302" });
    hang = true;
    status = 200;
    assert.deepEqual(await checker.probe(pool.get("a")!), { ok: false, reason: "timeout" });
  } finally {
    checker.stop();
    await server.shutdown();
  }
});

Deno.test("startLoadBalancer() probes before accepting: a dead backend never sees traffic at start", async () => {
  const alive = startBackend(() => new Response("alive"));
  const dead = startBackend();
  dead.healthy = false;
  const lb = await startLb([alive.url, dead.url], "health_check: {interval: 1m}");
  try {
    for (let i = 0; i < 6; i++) assert.equal((await nodeRequest(`${lb.url}/`)).status, 200);
    assert.equal(dead.seen.length, 0);
    assert.equal(alive.seen.length, 6);
  } finally {
    await lb.shutdown();
    await alive.close();
    await dead.close();
  }
});

Deno.test("health checks take a failing backend out and back, logging each change once", async () => {
  const a = startBackend();
  const b = startBackend();
  const lb = await startLb(
    [a.url, b.url],
    "health_check: {interval: 50ms, timeout: 500ms, healthy_threshold: 2, unhealthy_threshold: 2}",
  );
  try {
    b.healthy = false;
    await waitFor(() => lb.pool.get("b1")!.state === "unhealthy", 3000, "b1 unhealthy");
    const seen = b.seen.length;
    for (let i = 0; i < 4; i++) assert.equal((await nodeRequest(`${lb.url}/`)).status, 200);
    assert.equal(b.seen.length, seen, "no traffic to an unhealthy backend");
    await moreChecks(lb, "b1", "failure", await checks(lb, "b1", "failure"), 4); // it stays down, logged once
    b.healthy = true;
    await waitFor(() => lb.pool.get("b1")!.state === "healthy", 3000, "b1 healthy again");
    const changes = lb.logLines.filter((l) => l.includes("backend state changed") && l.includes('"b1"'));
    assert.equal(changes.length, 3, changes.join("\n")); // unknown->healthy, ->unhealthy, ->healthy
  } finally {
    await lb.shutdown();
    await a.close();
    await b.close();
  }
});

Deno.test("HealthChecker.probe() says what failed and where when nothing listens", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const pool = new Pool([{ name: "a", url: `http://127.0.0.1:${port}`, weight: 1 }]);
  const checker = new HealthChecker(
    pool,
    CONFIG,
    new Metrics(new Registry(), false).service("default", () => []),
  );
  try {
    assert.deepEqual(await checker.probe(pool.get("a")!), {
      ok: false,
      reason: `connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  } finally {
    checker.stop();
  }
});

Deno.test("a backend without the health path is logged once, from its first check, with the check and the reason", async () => {
  // Like `python3 -m http.server`: 200 on /, 404 on anything it has no file for.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/" ? new Response("listing") : new Response("nope", { status: 404 }),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  const lb = await startLb([url], "health_check: {path: /health, interval: 50ms, timeout: 500ms}");
  try {
    await moreChecks(lb, "b0", "failure", 0, 5); // the first check and several more, logged once
    const lines = lb.logLines.filter((l) => l.includes('"b0"') && l.includes("unhealthy"));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /^warn backend unhealthy from its first check/);
    assert.match(lines[0], new RegExp(`"check":"GET /health on ${url}"`));
    assert.match(lines[0], /"reason":"status 404","expected":"200-399"/);
    assert.match(lines[0], /health_check\.path/);
    assert.equal(lb.pool.get("b0")!.state, "unhealthy");
  } finally {
    await lb.shutdown();
    await server.shutdown();
  }
});
