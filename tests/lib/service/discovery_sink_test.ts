import assert from "node:assert/strict";
import { loadConfig } from "../../../lib/config/config.ts";
import {
  scrape,
  startBackend,
  startLb,
  startLbFrom,
  type TestBackend,
  type TestLb,
  waitFor,
} from "../../_util/harness.ts";

const HEALTH = "health_check: {interval: 50ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";

/** A proxy with static backends b0.. whose config file the test can rewrite and reload. */
async function setup(backends: TestBackend[]) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.yml`;
  const lb = await startLb(backends.map((b) => b.url), HEALTH, {
    configSource: () => loadConfig(path, () => undefined),
  });
  const reload = async (list: [string, TestBackend][]) => {
    const listen =
      `listen: "127.0.0.1:${lb.proxyAddr.port}"\nadmin: {listen: "127.0.0.1:${lb.adminAddr.port}"}`;
    const items = list.map(([name, be]) => `  - {name: ${name}, url: "${be.url}"}`).join("\n");
    await Deno.writeTextFile(path, `${listen}\n${HEALTH}\nbackends:\n${items}\n`);
    const r = await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" });
    return { status: r.status, body: await r.json() };
  };
  return { lb, reload, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

/** Who answered `count` sequential requests. */
async function answers(lb: TestLb, count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const text = await (await fetch(lb.url)).text();
    seen.set(text, (seen.get(text) ?? 0) + 1);
  }
  return seen;
}

const spec = (name: string, be: TestBackend, weight = 1) => ({
  service: "default",
  name,
  url: be.url,
  weight,
  container: name,
});

Deno.test("LoadBalancer.sink probes a discovered backend before traffic and drains it on remove", async () => {
  const a = startBackend(() => new Response("a"));
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const d = startBackend(async (req) => {
    if (new URL(req.url).pathname === "/slow") await gate;
    return new Response("d");
  });
  d.healthy = false;
  const { lb, cleanup } = await setup([a]);
  try {
    lb.sink.upsert(spec("web-1", d));
    const added = lb.pool.get("web-1")!;
    assert.equal(added.source, "discovery");
    assert.equal(added.state, "unknown", "not eligible before its first probe");
    await waitFor(() => added.state === "unhealthy", 2000, "first probe of web-1");
    assert.deepEqual([...(await answers(lb, 4)).keys()], ["a"], "no traffic while failing its check");
    assert.equal((await scrape(lb)).get('lb_backend_up{service="default",backend="web-1"}'), 0);

    d.healthy = true;
    await waitFor(() => added.state === "healthy", 2000, "web-1 healthy");
    assert.ok((await answers(lb, 6)).get("d")! > 0, "traffic after the probe passed");
    const body = await (await fetch(`${lb.adminUrl}/api/backends`)).json();
    const listed = (body.backends ?? body).find((b: { name: string }) => b.name === "web-1");
    assert.equal(listed.source, "discovery");

    // Removed with a request in flight: it finishes, then every series goes.
    const pending = (async () => {
      for (let i = 0; i < 4; i++) {
        const r = await fetch(`${lb.url}/slow`);
        const text = await r.text();
        if (text === "d") return text;
      }
      return "never reached d";
    })();
    await waitFor(() => added.inFlight === 1, 2000, "a request in flight on web-1");
    lb.sink.remove(spec("web-1", d));
    assert.equal(lb.pool.get("web-1"), undefined);
    assert.equal(added.state, "draining");
    assert.deepEqual([...(await answers(lb, 3)).keys()], ["a"]);
    release();
    assert.equal(await pending, "d");
    await waitFor(
      async () => ![...(await scrape(lb)).keys()].some((k) => k.includes('backend="web-1"')),
      2000,
      "every web-1 series removed",
    );
    assert.ok(lb.logLines.some((l) => l.startsWith("info backend discovered") && l.includes("web-1")));
  } finally {
    release();
    await lb.shutdown();
    await Promise.all([a.close(), d.close()]);
    await cleanup();
  }
});

Deno.test("POST /api/reload keeps discovered backends, and a file that claims the name wins", async () => {
  const a = startBackend(() => new Response("a"));
  const b = startBackend(() => new Response("b"));
  const d = startBackend(() => new Response("d"));
  const { lb, reload, cleanup } = await setup([a]);
  try {
    lb.sink.upsert(spec("web-1", d));
    const discovered = lb.pool.get("web-1")!;
    await waitFor(() => discovered.state === "healthy", 2000, "web-1 healthy");

    // The file changes its own backends; the discovered one is not the file's to remove.
    const r = await reload([["b0", a], ["b1", b]]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.added, r.body.removed], [["b1"], []]);
    assert.equal(lb.pool.get("web-1"), discovered, "same object after the reload");
    await waitFor(() => lb.pool.get("b1")?.state === "healthy", 2000, "b1 healthy");
    assert.deepEqual([...(await answers(lb, 6)).keys()].sort(), ["a", "b", "d"]);

    // Now the file lists "web-1" itself (at b's address): the config backend replaces it.
    const r2 = await reload([["b0", a], ["web-1", b]]);
    assert.deepEqual([r2.body.added, r2.body.removed, r2.body.updated], [[], ["b1"], ["web-1"]]);
    const claimed = lb.pool.get("web-1")!;
    assert.equal(claimed.source, "config");
    assert.equal(claimed.url, b.url);
    // Discovery may no longer replace or remove it.
    lb.sink.upsert(spec("web-1", d));
    lb.sink.remove(spec("web-1", d));
    assert.equal(lb.pool.get("web-1"), claimed);
    assert.ok(
      lb.logLines.some((l) => l.startsWith("warn docker discovery: container skipped, a configured backend")),
    );
  } finally {
    await lb.shutdown();
    await Promise.all([a.close(), b.close(), d.close()]);
    await cleanup();
  }
});

Deno.test("LoadBalancer.sink replaces a discovered backend whose address changed and updates its weight in place", async () => {
  const a = startBackend(() => new Response("a"));
  const d1 = startBackend(() => new Response("d1"));
  const d2 = startBackend(() => new Response("d2"));
  const { lb, cleanup } = await setup([a]);
  try {
    lb.sink.upsert(spec("web-1", d1));
    const first = lb.pool.get("web-1")!;
    lb.sink.upsert(spec("web-1", d1, 3));
    assert.equal(lb.pool.get("web-1"), first, "same address: kept");
    assert.equal(first.configuredWeight, 3);
    lb.sink.upsert(spec("web-1", d2));
    const second = lb.pool.get("web-1")!;
    assert.notEqual(second, first);
    assert.equal(second.url, d2.url);
    assert.equal(second.state, "unknown", "a new address is probed first");
    await waitFor(() => second.state === "healthy", 2000, "new web-1 healthy");
    assert.ok(!(await answers(lb, 6)).has("d1"));
  } finally {
    await lb.shutdown();
    await Promise.all([a.close(), d1.close(), d2.close()]);
    await cleanup();
  }
});

Deno.test("LoadBalancer.sink puts a discovered backend into the service it names, and skips an unknown one once", async () => {
  const w = startBackend(() => new Response("w"));
  const a = startBackend(() => new Response("a"));
  const d = startBackend(() => new Response("d"));
  const stray = startBackend(() => new Response("stray"));
  const lb = await startLbFrom(`${HEALTH}
services:
  web: {backends: [{name: w1, url: "${w.url}"}]}
  api: {backends: [{name: a1, url: "${a.url}"}]}
routes:
  - {match: {path_prefix: /api}, service: api}
  - service: web
`);
  /** Who answered `count` sequential requests to `path`. */
  const at = async (path: string, count: number) => {
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) seen.add(await (await fetch(`${lb.url}${path}`)).text());
    return [...seen].sort();
  };
  try {
    lb.sink.upsert({ ...spec("api-2", d), service: "api" });
    const added = lb.service("api").pool.get("api-2");
    assert.ok(added, "in api's pool");
    assert.equal(added.source, "discovery");
    assert.equal(lb.service("web").pool.get("api-2"), undefined, "not in web's pool");
    await waitFor(() => added.state === "healthy", 2000, "api-2 healthy");
    assert.deepEqual(await at("/api/x", 6), ["a", "d"], "api's requests reach the discovered backend");
    assert.deepEqual(await at("/page", 6), ["w"], "web's do not");
    assert.equal((await scrape(lb)).get('lb_backend_up{service="api",backend="api-2"}'), 1);
    assert.ok(
      lb.logLines.some((l) => l.startsWith("info backend discovered") && l.includes('"service":"api"')),
    );

    // A service the config lacks, and no label at all (default, which a config of services lacks too).
    for (let i = 0; i < 2; i++) {
      lb.sink.upsert({ ...spec("billing-1", stray), service: "billing" });
      lb.sink.upsert(spec("plain-1", stray));
    }
    for (const s of lb.services.all()) {
      assert.deepEqual(
        s.pool.all().map((b) => b.name).sort(),
        s.name === "api" ? ["a1", "api-2"] : ["w1"],
        `${s.name}: nothing joined`,
      );
    }
    const skipped = lb.logLines.filter((l) =>
      l.startsWith("warn docker discovery: container skipped, no such service")
    );
    assert.deepEqual(
      skipped.map((l) => JSON.parse(l.slice(l.indexOf("{")))),
      [{ backend: "billing-1", service: "billing" }, { backend: "plain-1", service: "default" }],
      "said once per unknown service name",
    );
    lb.sink.remove({ ...spec("billing-1", stray), service: "billing" }); // no service: nothing to do
    assert.deepEqual(await at("/page", 4), ["w"]);

    lb.sink.remove({ ...spec("api-2", d), service: "api" });
    assert.equal(lb.service("api").pool.get("api-2"), undefined);
    assert.deepEqual(await at("/api/x", 4), ["a"]);
  } finally {
    await lb.shutdown();
    await Promise.all([w.close(), a.close(), d.close(), stray.close()]);
  }
});
