import assert from "node:assert/strict";
import { scrape, startBackend, startLbFrom } from "../../_util/harness.ts";

const HEALTH =
  "health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";

async function twoServices() {
  const backends = [startBackend(), startBackend(), startBackend()];
  const [w1, w2, a1] = backends;
  const lb = await startLbFrom(`${HEALTH}
services:
  web: {backends: [{name: w1, url: "${w1.url}"}, {name: w2, url: "${w2.url}"}]}
  api: {strategy: peak_ewma, backends: [{name: a1, url: "${a1.url}"}]}
routes:
  - match: {path_prefix: /api}
    service: api
  - service: web
`);
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${lb.adminUrl}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };
  return {
    lb,
    call,
    close: async () => {
      await lb.shutdown();
      await Promise.all(backends.map((b) => b.close()));
    },
  };
}

Deno.test("GET /api/services lists each service with its strategy and backends", async () => {
  const { call, close } = await twoServices();
  try {
    const r = await call("GET", "/api/services");
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.map((s: { name: string; strategy: string; eligible: number; backends: { name: string }[] }) => [
        s.name,
        s.strategy,
        s.eligible,
        s.backends.map((b) => b.name),
      ]),
      [["web", "round_robin", 2, ["w1", "w2"]], ["api", "peak_ewma", 1, ["a1"]]],
    );
    const one = await call("GET", "/api/services/api");
    assert.equal(one.body.name, "api");
    const all = await call("GET", "/api/backends");
    assert.deepEqual(all.body.map((b: { service: string; name: string }) => `${b.service}/${b.name}`), [
      "web/w1",
      "web/w2",
      "api/a1",
    ]);
  } finally {
    await close();
  }
});

Deno.test("PUT /api/services/{service}/strategy switches that service only", async () => {
  const { lb, call, close } = await twoServices();
  try {
    const r = await call("PUT", "/api/services/web/strategy", { strategy: "random" });
    assert.deepEqual([r.status, r.body], [200, {
      service: "web",
      strategy: "random",
      previous: "round_robin",
    }]);
    assert.equal(lb.service("web").balancer.strategy, "random");
    assert.equal(lb.service("api").balancer.strategy, "peak_ewma");
    const m = await scrape(lb);
    assert.equal(m.get('lb_strategy_info{service="web",strategy="random"}'), 1);
    assert.equal(
      m.get('lb_strategy_info{service="web",strategy="round_robin"}'),
      undefined,
      "the old one is gone",
    );
    assert.equal(m.get('lb_strategy_info{service="api",strategy="peak_ewma"}'), 1);
    const bad = await call("PUT", "/api/services/web/strategy", { strategy: "fastest" });
    assert.equal(bad.status, 400);
    const missing = await call("PUT", "/api/services/nope/strategy", { strategy: "random" });
    assert.deepEqual([missing.status, missing.body.services], [404, ["web", "api"]]);
  } finally {
    await close();
  }
});

Deno.test("drain and enable under /api/services/{service}/backends/{name}", async () => {
  const { lb, call, close } = await twoServices();
  try {
    const drained = await call("POST", "/api/services/web/backends/w1/drain");
    assert.deepEqual([drained.status, drained.body.state], [200, "draining"]);
    assert.equal(lb.service("web").pool.get("w1")!.state, "draining");
    const enabled = await call("POST", "/api/services/web/backends/w1/enable");
    assert.deepEqual([enabled.status, enabled.body.state], [200, "healthy"]);
    const unknown = await call("POST", "/api/services/api/backends/w1/drain");
    assert.equal(unknown.status, 404, "w1 is web's, not api's");
  } finally {
    await close();
  }
});

Deno.test("the single-pool endpoints answer 409 listing the services when there are several", async () => {
  const { call, close } = await twoServices();
  try {
    for (
      const [method, path, body] of [
        ["GET", "/api/strategy"],
        ["PUT", "/api/strategy", { strategy: "random" }],
        ["POST", "/api/backends/w1/drain"],
      ] as const
    ) {
      const r = await call(method, path, body);
      assert.equal(r.status, 409, `${method} ${path}`);
      assert.deepEqual(r.body.services, ["web", "api"]);
      assert.match(r.body.error, /use \/api\/services\/\{service\}/);
    }
  } finally {
    await close();
  }
});
