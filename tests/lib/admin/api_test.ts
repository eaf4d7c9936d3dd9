import assert from "node:assert/strict";
import { startBackend, startLb, waitFor } from "../../_util/harness.ts";

Deno.test("admin /healthz, /readyz and /api/backends report the pool", async () => {
  const up = startBackend();
  const down = startBackend();
  down.healthy = false;
  const lb = await startLb([up.url, down.url], 'admin: {listen: "127.0.0.1:0", token: "t0ps3cret"}');
  try {
    assert.equal((await fetch(`${lb.adminUrl}/healthz`)).status, 200);
    const ready = await fetch(`${lb.adminUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.match(await ready.text(), /1 eligible/);
    const backends = await (await fetch(`${lb.adminUrl}/api/backends`)).json();
    assert.deepEqual(
      backends.map((b: Record<string, unknown>) => [b.name, b.url, b.weight, b.state, b.in_flight]),
      [["b0", up.url, 1, "healthy", 0], ["b1", down.url, 1, "unhealthy", 0]],
    );
    up.healthy = false;
    // The next failing check (every 100 ms) takes b0 out; then nothing is eligible.
    await waitFor(
      async () => {
        const r = await fetch(`${lb.adminUrl}/readyz`);
        await r.body?.cancel();
        return r.status === 503;
      },
      10_000,
      "/readyz 503",
    );
    assert.match(await (await fetch(`${lb.adminUrl}/readyz`)).text(), /no eligible backend/);
  } finally {
    await lb.shutdown();
    await up.close();
    await down.close();
  }
});

Deno.test("admin /api/config redacts the token and answers in snake_case", async () => {
  const be = startBackend();
  const lb = await startLb(
    [be.url],
    'admin: {listen: "127.0.0.1:0", token: "t0ps3cret"}\nsticky: {secret: "st1cky-s3cret"}',
  );
  try {
    const text = await (await fetch(`${lb.adminUrl}/api/config`)).text();
    assert.ok(!text.includes("t0ps3cret"));
    assert.ok(!text.includes("st1cky-s3cret"), "the sticky cookies' key is not shown either");
    assert.equal(JSON.parse(text).admin.token, "<redacted>");
    assert.equal(JSON.parse(text).services[0].sticky.secret, "<redacted>");
    assert.equal(JSON.parse(text).services[0].sticky.cookie, "lb_sticky");
    assert.equal(JSON.parse(text).defaults.strategy, "round_robin");
    assert.equal(
      JSON.parse(text).services[0].health_check.interval_ms,
      100,
      "snake_case, like the config file",
    );
    assert.deepEqual(text.match(/"[a-z0-9]+[A-Z]\w*":/g), null, "no camelCase key anywhere");
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("admin PUT /api/strategy needs the bearer token when one is set", async () => {
  const be = startBackend();
  const lb = await startLb([be.url], 'admin: {listen: "127.0.0.1:0", token: "t0ps3cret"}');
  try {
    const put = (auth?: string, body = '{"strategy":"RoundRobin"}') =>
      fetch(`${lb.adminUrl}/api/strategy`, {
        method: "PUT",
        body,
        headers: auth ? { authorization: auth } : {},
      });
    const none = await put();
    assert.equal(none.status, 401);
    assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
    await none.body?.cancel();
    const wrong = await put("Bearer nope");
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const lower = await put("bearer T0PS3CRET");
    assert.equal(lower.status, 401, "the token itself is case-sensitive");
    await lower.body?.cancel();
    const scheme = await put("bearer t0ps3cret", '{"strategy":"round_robin"}');
    assert.equal(scheme.status, 200, "the scheme is case-insensitive (RFC 9110 section 11.1)");
    await scheme.body?.cancel();
    const good = await put("Bearer t0ps3cret");
    assert.equal(good.status, 200);
    assert.deepEqual(await good.json(), {
      service: "default",
      strategy: "round_robin",
      previous: "round_robin",
    });
    const bad = await put("Bearer t0ps3cret", '{"strategy":"fastest"}');
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /unknown strategy "fastest"; valid: /);
    const got = await (await fetch(`${lb.adminUrl}/api/strategy`)).json();
    assert.equal(got.strategy, "round_robin");
    assert.ok(got.available.includes("round_robin"));
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("admin paths on the public listener are proxied, never served", async () => {
  const be = startBackend((req) => new Response(`backend saw ${new URL(req.url).pathname}`));
  const lb = await startLb([be.url]);
  try {
    for (const path of ["/metrics", "/healthz", "/readyz", "/api/backends", "/api/config"]) {
      assert.equal(await (await fetch(`${lb.url}${path}`)).text(), `backend saw ${path}`);
    }
    assert.equal((await fetch(`${lb.adminUrl}/nope`)).status, 404);
    const wrongMethod = await fetch(`${lb.adminUrl}/metrics`, { method: "POST" });
    assert.equal(wrongMethod.status, 405);
    await wrongMethod.body?.cancel();
  } finally {
    await lb.shutdown();
    await be.close();
  }
});
