import assert from "node:assert/strict";
import { parseConfig } from "../../../lib/config/config.ts";
import type { AccessRecord } from "../../../lib/access_log/mod.ts";
import { StickySessions } from "../../../lib/proxy/mod.ts";
import {
  nodeRequest,
  startBackend,
  startLbFrom,
  type TestBackend,
  type TestLb,
  waitFor,
} from "../../_util/harness.ts";

const SECRET = "correct horse battery staple";
const HOUR = 3_600_000;

/** Three backends answering their own name. */
function three(): TestBackend[] {
  return ["b0", "b1", "b2"].map((name) => startBackend(() => new Response(name)));
}

function yaml(backends: TestBackend[], extra = "", names = ["b0", "b1", "b2"]): string {
  return `health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}
sticky: {secret: "${SECRET}"}
${extra}
backends:
${backends.map((b, i) => `  - {name: ${names[i]}, url: "${b.url}"}`).join("\n")}
`;
}

async function get(lb: TestLb, cookie?: string, headers: Record<string, string> = {}) {
  const r = await nodeRequest(`${lb.url}/`, { headers: cookie ? { cookie, ...headers } : headers });
  const setCookie = r.header("set-cookie");
  return {
    backend: new TextDecoder().decode(r.body),
    setCookie,
    /** `lb_sticky=<value>` of the Set-Cookie, as a client sends it back. */
    cookie: setCookie?.split(";")[0],
  };
}

const codec = (clock: () => number = Date.now, secret = SECRET) =>
  new StickySessions("default", { cookie: "lb_sticky", secret, maxAgeMs: HOUR }, clock);

Deno.test("StickySessions signs an opaque id and an expiry, and rejects any change to either", () => {
  const now = 1_700_000_000_000;
  const sticky = codec(() => now);
  const value = sticky.encode({ name: "b1" });
  const [id, expires, signature] = value.split(".");
  assert.equal(sticky.verify(value), sticky.idOf({ name: "b1" }));
  assert.equal(Number(expires), (now + HOUR) / 1000);
  assert.match(value, /^[A-Za-z0-9_-]{12}\.\d+\.[A-Za-z0-9_-]{22}$/);
  assert.ok(!value.includes("b1"), "the backend's name is not in the cookie");
  assert.equal(sticky.verify(`${id}.${Number(expires) + 60}.${signature}`), undefined, "expiry moved");
  assert.equal(
    sticky.verify(`${sticky.idOf({ name: "b2" })}.${expires}.${signature}`),
    undefined,
    "id swapped",
  );
  assert.equal(sticky.verify(`${id}.${expires}.${"A".repeat(22)}`), undefined, "signature guessed");
  assert.equal(codec(() => now, "another secret").verify(value), undefined, "another secret");
  const otherService = new StickySessions("api", sticky.config, () => now);
  assert.equal(otherService.verify(value), undefined, "another service's cookie");
  assert.equal(codec(() => now + HOUR + 1).verify(value), undefined, "expired");
  assert.equal(sticky.verify("garbage"), undefined);
});

Deno.test("proxy keeps a client on its backend for 100 requests with an HttpOnly SameSite=Lax cookie", async () => {
  const backends = three();
  const states: AccessRecord[] = [];
  const lb = await startLbFrom(yaml(backends), { onRequest: (s) => states.push(s) });
  try {
    const first = await get(lb);
    assert.match(first.setCookie ?? "", /^lb_sticky=[^;]+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax$/);
    for (const b of backends) {
      assert.ok(!first.setCookie!.includes(String(b.port)), "no address in the cookie");
    }
    const seen = new Set<string>();
    let reissued = 0;
    for (let i = 0; i < 100; i++) {
      const r = await get(lb, first.cookie);
      seen.add(r.backend);
      if (r.setCookie) reissued++;
    }
    assert.deepEqual([...seen], [first.backend], "every request on the first one's backend");
    assert.equal(reissued, 0, "a fresh valid cookie is not set again");
    assert.deepEqual(new Set(states.map((s) => s.sticky)), new Set(["set", "kept"]));
    // Without the cookie, round robin spreads as usual.
    const spread = new Set<string>();
    for (let i = 0; i < 6; i++) spread.add((await get(lb)).backend);
    assert.equal(spread.size, 3);
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});

Deno.test("proxy ignores a forged or expired cookie, picks by strategy and sets a new one", async () => {
  const backends = three();
  const lb = await startLbFrom(yaml(backends));
  try {
    const { cookie, backend } = await get(lb);
    const [name, value] = cookie!.split("=");
    const [id, expires, signature] = value.split(".");
    const forgeries = [
      `${name}=${id}.${Number(expires) + 86_400}.${signature}`, // a longer life
      `${name}=${codec(Date.now, "guessed").encode({ name: backend })}`, // the wrong secret
      `${name}=${codec(() => Date.now() - 2 * HOUR).encode({ name: backend })}`, // expired an hour ago
    ];
    for (const forged of forgeries) {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const r = await get(lb, forged);
        assert.ok(r.setCookie, `${forged}: replaced`);
        seen.add(r.backend);
      }
      assert.equal(seen.size, 3, `${forged}: the strategy chose, as without a cookie`);
    }
    // A valid cookie past half its life keeps its backend and is renewed.
    const aging = `${name}=${codec(() => Date.now() - 0.6 * HOUR).encode({ name: "b2" })}`;
    const renewed = await get(lb, aging);
    assert.equal(renewed.backend, "b2");
    assert.ok(renewed.setCookie, "renewed");
    assert.equal((await get(lb, renewed.cookie)).backend, "b2");
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});

Deno.test("proxy moves a session whose backend is unhealthy or drained, and re-issues its cookie", async () => {
  const backends = three();
  const lb = await startLbFrom(yaml(backends));
  try {
    const stuck = `lb_sticky=${codec().encode({ name: "b1" })}`;
    assert.equal((await get(lb, stuck)).backend, "b1");
    backends[1].healthy = false;
    await waitFor(() => lb.pool.get("b1")?.state === "unhealthy", 3_000, "b1 to fail its checks");
    const moved = await get(lb, stuck);
    assert.notEqual(moved.backend, "b1");
    assert.ok(moved.setCookie, "a cookie for the backend that answered");
    for (let i = 0; i < 10; i++) assert.equal((await get(lb, moved.cookie)).backend, moved.backend);

    const drain = await fetch(`${lb.adminUrl}/api/backends/${moved.backend}/drain`, { method: "POST" });
    await drain.body?.cancel();
    const again = await get(lb, moved.cookie);
    assert.ok(again.backend !== moved.backend && again.backend !== "b1");
    assert.ok(again.setCookie);
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});

Deno.test("proxy falls back and re-issues when a reload removed the cookie's backend", async () => {
  const backends = three();
  let next = yaml(backends);
  const lb = await startLbFrom(next, {
    configSource: () => {
      const r = parseConfig(`listen: "127.0.0.1:0"\nadmin: {listen: "127.0.0.1:0"}\n${next}`);
      return Promise.resolve(r);
    },
  });
  try {
    const before = await get(lb, `lb_sticky=${codec().encode({ name: "b2" })}`);
    assert.equal(before.backend, "b2");
    next = yaml(backends.slice(0, 2));
    const r = await lb.reload();
    assert.ok(r.ok, JSON.stringify(r));
    const after = await get(lb, `lb_sticky=${codec().encode({ name: "b2" })}`);
    assert.notEqual(after.backend, "b2");
    assert.ok(after.setCookie, "re-issued for a backend still there");
    assert.equal((await get(lb, after.cookie)).backend, after.backend);
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});

Deno.test("two proxies with one secret honour each other's cookies", async () => {
  const backends = three();
  const one = await startLbFrom(yaml(backends));
  // The second proxy lists the same backends in another order: names, not positions, count.
  const other = await startLbFrom(yaml([backends[2], backends[0], backends[1]], "", ["b2", "b0", "b1"]));
  try {
    for (let i = 0; i < 3; i++) {
      const { cookie, backend } = await get(one);
      for (let j = 0; j < 10; j++) {
        const r = await get(other, cookie);
        assert.equal(r.backend, backend, `the other proxy sends ${backend}'s session to ${backend}`);
        assert.equal(r.setCookie, undefined);
      }
    }
  } finally {
    await one.shutdown();
    await other.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});

Deno.test("proxy marks the cookie Secure only when a trusted proxy says the client used https", async () => {
  const backends = three();
  const trusting = await startLbFrom(yaml(backends, `trusted_proxies: ["127.0.0.0/8"]`));
  const plain = await startLbFrom(yaml(backends));
  try {
    const https = { "x-forwarded-proto": "https" };
    assert.match((await get(trusting, undefined, https)).setCookie!, /; Secure$/);
    assert.doesNotMatch((await get(trusting)).setCookie!, /Secure/);
    assert.doesNotMatch(
      (await get(plain, undefined, https)).setCookie!,
      /Secure/,
      "an untrusted peer's header",
    );
  } finally {
    await trusting.shutdown();
    await plain.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});

Deno.test("proxy gives two sticky services distinct cookies, so one client keeps a backend in each", async () => {
  const web = ["w0", "w1", "w2"].map((name) => startBackend(() => new Response(name)));
  const api = ["a0", "a1", "a2"].map((name) => startBackend(() => new Response(name)));
  const list = (bs: TestBackend[], prefix: string) =>
    `[${bs.map((b, i) => `{name: ${prefix}${i}, url: "${b.url}"}`).join(", ")}]`;
  const lb = await startLbFrom(
    `health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}
sticky: {secret: "${SECRET}"}
services:
  web: {backends: ${list(web, "w")}}
  api: {backends: ${list(api, "a")}}
routes:
  - {match: {path_prefix: /api}, service: api}
  - service: web
`,
  );
  // One browser's cookie jar: both services answer under one host, so share it.
  const jar = new Map<string, string>();
  const issued: string[] = [];
  const visit = async (path: string) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const r = await nodeRequest(`${lb.url}${path}`, { headers: cookie ? { cookie } : {} });
    const set = r.header("set-cookie");
    if (set) {
      const [name, value] = set.split(";")[0].split("=");
      issued.push(name);
      jar.set(name, value);
    }
    return new TextDecoder().decode(r.body);
  };
  try {
    const seen = { web: new Set<string>(), api: new Set<string>() };
    for (let i = 0; i < 20; i++) {
      seen.api.add(await visit("/api/x"));
      seen.web.add(await visit("/page"));
    }
    assert.deepEqual(issued, ["lb_sticky_api", "lb_sticky_web"], "one cookie per service, set once each");
    assert.deepEqual([...jar.keys()].sort(), ["lb_sticky_api", "lb_sticky_web"]);
    assert.equal(seen.api.size, 1, `api kept on one backend: ${[...seen.api]}`);
    assert.equal(seen.web.size, 1, `web kept on one backend: ${[...seen.web]}`);
    assert.match([...seen.api][0], /^a\d$/);
    assert.match([...seen.web][0], /^w\d$/);
    // A service does not take the other's cookie for its own, even under its name.
    const swapped = await nodeRequest(`${lb.url}/api/x`, {
      headers: { cookie: `lb_sticky_api=${jar.get("lb_sticky_web")}` },
    });
    assert.match(swapped.header("set-cookie") ?? "", /^lb_sticky_api=/, "web's cookie is refused by api");
  } finally {
    await lb.shutdown();
    await Promise.all([...web, ...api].map((b) => b.close()));
  }
});
