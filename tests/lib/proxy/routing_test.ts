/**
 * Several services behind one listener: routes by host, path, method and header; a stripped
 * prefix; an exact weighted split; 404 for no route; per-service metrics.
 */
import assert from "node:assert/strict";
import { nodeRequest, scrape, startBackend, startLbFrom, type TestBackend } from "../../_util/harness.ts";

const HEALTH =
  "health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";

function named(name: string): TestBackend {
  return startBackend((req) =>
    new Response(`${name} ${new URL(req.url).pathname}${new URL(req.url).search}`)
  );
}

Deno.test("proxy routes by host, path, method and header to each service, with its own strategy", async () => {
  const [w1, w2, a1] = ["w1", "w2", "a1"].map(named);
  const lb = await startLbFrom(`${HEALTH}
services:
  web:
    strategy: round_robin
    backends: [{name: w1, url: "${w1.url}"}, {name: w2, url: "${w2.url}"}]
  api:
    strategy: least_connections
    backends: [{name: a1, url: "${a1.url}"}]
routes:
  - match: {host: api.example.test, path_prefix: /v1}
    service: api
    strip_prefix: true
  - match: {methods: [POST], headers: {x-api: "yes"}}
    service: api
  - match: {host: "*.example.test"}
    service: web
`);
  // node:http sends the Host given (fetch would replace it).
  const get = async (
    path: string,
    host: string,
    init: { method?: string; headers?: Record<string, string> } = {},
  ) => {
    const r = await nodeRequest(`${lb.url}${path}`, { ...init, headers: { host, ...init.headers } });
    return [r.status, new TextDecoder().decode(r.body)];
  };
  try {
    assert.deepEqual(await get("/v1/users?x=1", "API.example.test:8080"), [200, "a1 /users?x=1"]);
    assert.deepEqual(await get("/v1", "api.example.test"), [200, "a1 /"]);
    assert.deepEqual(
      await get("/v10", "api.example.test"),
      [200, "w1 /v10"],
      "not under /v1: the wildcard route",
    );
    assert.deepEqual(await get("/x", "www.example.test"), [200, "w2 /x"], "round robin across web");
    assert.deepEqual(await get("/form", "other.test", { method: "POST", headers: { "x-api": "yes" } }), [
      200,
      "a1 /form",
    ]);
    const [status, body] = await get("/nowhere", "other.test");
    assert.equal(status, 404);
    assert.equal(body, "404 Not Found: no route for host other.test path /nowhere\n");
    const m = await scrape(lb);
    assert.equal(
      m.get(
        'lb_requests_total{service="api",backend="a1",strategy="least_connections",method="GET",code="200",protocol="http/1.1"}',
      ),
      2,
    );
    assert.equal(
      m.get(
        'lb_requests_total{service="api",backend="a1",strategy="least_connections",method="POST",code="200",protocol="http/1.1"}',
      ),
      1,
    );
    assert.equal(
      m.get(
        'lb_requests_total{service="web",backend="w1",strategy="round_robin",method="GET",code="200",protocol="http/1.1"}',
      ),
      1,
    );
    assert.equal(
      m.get(
        'lb_requests_total{service="none",backend="none",strategy="none",method="GET",code="404",protocol="http/1.1"}',
      ),
      1,
    );
    assert.equal(m.get('lb_strategy_info{service="web",strategy="round_robin"}'), 1);
    assert.equal(m.get('lb_strategy_info{service="api",strategy="least_connections"}'), 1);
    assert.equal(m.get('lb_backend_up{service="api",backend="a1"}'), 1);
    assert.equal(w1.seen.length + w2.seen.length, 2);
  } finally {
    await lb.shutdown();
    await Promise.all([w1, w2, a1].map((b) => b.close()));
  }
});

Deno.test("proxy splits traffic between services by weight, exactly", async () => {
  const [stable, canary] = ["stable", "canary"].map(named);
  const lb = await startLbFrom(`${HEALTH}
services:
  stable: {backends: [{url: "${stable.url}"}]}
  canary: {backends: [{url: "${canary.url}"}]}
routes:
  - split:
      - {service: stable, weight: 9}
      - {service: canary, weight: 1}
`);
  try {
    for (let i = 0; i < 100; i++) await (await fetch(lb.url)).arrayBuffer();
    assert.deepEqual([stable.seen.length, canary.seen.length], [90, 10]);
  } finally {
    await lb.shutdown();
    await Promise.all([stable.close(), canary.close()]);
  }
});

Deno.test("proxy keeps each service's failures to itself: a dead service answers 503, the other 200", async () => {
  const alive = named("alive");
  const dead = startBackend();
  dead.healthy = false;
  const lb = await startLbFrom(`${HEALTH}
services:
  up: {backends: [{url: "${alive.url}"}]}
  down: {backends: [{url: "${dead.url}"}]}
routes:
  - match: {path_prefix: /down}
    service: down
  - service: up
`);
  try {
    const down = await fetch(`${lb.url}/down`);
    assert.equal(down.status, 503);
    assert.match(await down.text(), /no healthy backend/);
    assert.equal((await fetch(`${lb.url}/up`)).status, 200);
    const m = await scrape(lb);
    assert.equal(
      m.get(
        'lb_requests_total{service="down",backend="none",strategy="round_robin",method="GET",code="503",protocol="http/1.1"}',
      ),
      1,
    );
    const ready = await fetch(`${lb.adminUrl}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /no eligible backend in down/);
  } finally {
    await lb.shutdown();
    await Promise.all([alive.close(), dead.close()]);
  }
});

Deno.test("proxy routes a Host with a trailing dot, any case and a port, to the host route's service", async () => {
  const hosts: (string | null)[] = [];
  const a1 = startBackend((req) => {
    hosts.push(req.headers.get("host"));
    return new Response(`a1 ${new URL(req.url).pathname}`);
  });
  const w1 = named("w1");
  const lb = await startLbFrom(`${HEALTH}
services:
  api: {backends: [{name: a1, url: "${a1.url}"}]}
  web: {backends: [{name: w1, url: "${w1.url}"}]}
routes:
  - match: {host: api.example.test}
    service: api
  - service: web
`);
  const get = async (host: string) => {
    const r = await nodeRequest(`${lb.url}/p`, { headers: { host } });
    return [r.status, new TextDecoder().decode(r.body)];
  };
  try {
    assert.deepEqual(await get("api.example.test."), [200, "a1 /p"]);
    assert.deepEqual(await get("API.example.test.:8080"), [200, "a1 /p"]);
    assert.deepEqual(await get("api.example.test"), [200, "a1 /p"]);
    // Other hosts, dotted or not, fall through to the catch-all: the route is not matching everything.
    assert.deepEqual(await get("www.example.test."), [200, "w1 /p"]);
    assert.deepEqual(await get("api.example.test.."), [200, "w1 /p"], "only one trailing dot is dropped");
    assert.deepEqual(await get("api.example.testx"), [200, "w1 /p"]);
    // The backend gets the Host the client sent.
    assert.deepEqual(hosts, [
      "api.example.test.",
      "API.example.test.:8080",
      "api.example.test",
    ]);
  } finally {
    await lb.shutdown();
    await Promise.all([a1, w1].map((b) => b.close()));
  }
});

Deno.test("proxy interleaves a 3:1 split in smooth weighted round-robin order", async () => {
  const [heavy, light] = ["heavy", "light"].map(named);
  const lb = await startLbFrom(`${HEALTH}
services:
  heavy: {backends: [{url: "${heavy.url}"}]}
  light: {backends: [{url: "${light.url}"}]}
routes:
  - split:
      - {service: heavy, weight: 3}
      - {service: light, weight: 1}
`);
  try {
    const order: string[] = [];
    for (let i = 0; i < 8; i++) order.push((await (await fetch(`${lb.url}/`)).text()).split(" ")[0]);
    // Scores start at 0; each pick adds 3 and 1, takes the higher (the first on a tie) and subtracts
    // 4: [3,1]->H, [2,2]->H, [1,3]->L, [4,0]->H, then again. Never L twice, never H four times.
    const H = "heavy", L = "light";
    assert.deepEqual(order, [H, H, L, H, H, H, L, H]);
    assert.deepEqual([heavy.seen.length, light.seen.length], [6, 2]);
  } finally {
    await lb.shutdown();
    await Promise.all([heavy.close(), light.close()]);
  }
});
