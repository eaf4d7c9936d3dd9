import assert from "node:assert/strict";
import { loadConfig } from "../../../lib/config/config.ts";
import {
  scrape,
  startBackend,
  startLb,
  type TestBackend,
  type TestLb,
  waitFor,
} from "../../_util/harness.ts";

const HEALTH = "health_check: {interval: 50ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";

/** Config text for the proxy's file: loopback listeners as the running proxy has them. */
function fileFor(lb: TestLb | undefined, backends: [string, TestBackend, string?][], extra = ""): string {
  const listen = lb
    ? `listen: "127.0.0.1:${lb.proxyAddr.port}"\nadmin: {listen: "127.0.0.1:${lb.adminAddr.port}"}`
    : "";
  const list = backends.map(([name, be, more]) =>
    `  - {name: ${name}, url: "${be.url}"${more ? `, ${more}` : ""}}`
  );
  return `${listen}\n${HEALTH}\n${extra}\nbackends:\n${list.join("\n")}\n`;
}

async function setup(backends: TestBackend[]) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.yml`;
  const lb = await startLb(backends.map((b) => b.url), "", {
    configSource: () => loadConfig(path, () => undefined),
  });
  const reload = async (text: string) => {
    await Deno.writeTextFile(path, text);
    const r = await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" });
    return { status: r.status, body: await r.json() };
  };
  return { lb, reload, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("POST /api/reload keeps the running config when the file is invalid", async () => {
  const be = startBackend();
  const { lb, reload, cleanup } = await setup([be]);
  try {
    const before = lb.config();
    const r = await reload("backends:\n  - {url: http://x, weight: -1}\n");
    assert.equal(r.status, 422);
    assert.equal(r.body.ok, false);
    assert.match(r.body.errors[0], /backends\[0\]\.weight: must be a positive integer/);
    assert.equal(lb.config(), before);
    assert.equal((await fetch(lb.url)).status, 200);
    const m = await scrape(lb);
    assert.equal(m.get('lb_config_reloads_total{result="failure"}'), 1);
    assert.equal(m.get('lb_config_reloads_total{result="success"}'), 0);
    assert.ok(lb.logLines.some((l) => l.startsWith("error config reload failed")));
  } finally {
    await lb.shutdown();
    await be.close();
    await cleanup();
  }
});

Deno.test("POST /api/reload keeps kept backends' objects, drains removed ones and probes new ones first", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const a = startBackend(() => new Response("a"));
  const b = startBackend(async () => {
    await gate;
    return new Response("b finished");
  });
  const c = startBackend(() => new Response("c"));
  c.healthy = false;
  const { lb, reload, cleanup } = await setup([a, b]);
  try {
    const keptA = lb.pool.get("b0")!;
    // Round robin: b0 then b1; the second request hangs on b1.
    assert.equal(await (await fetch(lb.url)).text(), "a");
    const hanging = fetch(lb.url).then((r) => r.text());
    await waitFor(() => b.seen.length === 1, 2000, "request on b1");

    const r = await reload(fileFor(lb, [["b0", a, "weight: 3"], ["b2", c]]));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.added, r.body.removed, r.body.updated], [["b2"], ["b1"], ["b0"]]);
    assert.deepEqual(r.body.restart_required, []);
    assert.equal(lb.pool.get("b0"), keptA, "same object: in-flight, health and strategy state survive");
    assert.equal(keptA.weight, 3);
    assert.equal(lb.pool.get("b1"), undefined);

    // b2 fails its first check: no traffic until it passes.
    await waitFor(() => lb.pool.get("b2")?.state === "unhealthy", 2000, "b2 probed");
    for (let i = 0; i < 5; i++) assert.equal(await (await fetch(lb.url)).text(), "a");
    c.healthy = true;
    await waitFor(() => lb.pool.get("b2")?.state === "healthy", 2000, "b2 healthy");
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await (await fetch(lb.url)).text());
    assert.deepEqual([...seen].sort(), ["a", "c"]);

    // The removed backend's request finishes; then its series go away.
    assert.equal((await scrape(lb)).get('lb_active_connections{service="default",backend="b1"}'), 1);
    release();
    assert.equal(await hanging, "b finished");
    await waitFor(
      async () => ![...(await scrape(lb)).keys()].some((k) => k.includes('backend="b1"')),
      2000,
      "every b1 series removed",
    );
    assert.equal((await scrape(lb)).get('lb_config_reloads_total{result="success"}'), 1);
  } finally {
    release();
    await lb.shutdown();
    await Promise.all([a.close(), b.close(), c.close()]);
    await cleanup();
  }
});

Deno.test("POST /api/reload reports listener changes as needing a restart and treats a new URL as a new backend", async () => {
  const a = startBackend(() => new Response("a"));
  const a2 = startBackend(() => new Response("a2"));
  const { lb, reload, cleanup } = await setup([a]);
  try {
    const old = lb.pool.get("b0");
    const r = await reload(
      fileFor(undefined, [["b0", a2]], `listen: "127.0.0.1:1"\nadmin: {listen: "127.0.0.1:2"}`),
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.restart_required, ["listen", "admin.listen"]);
    assert.match(r.body.warning, /restart/);
    assert.notEqual(lb.pool.get("b0"), old, "URL changed: a new backend object");
    assert.equal(lb.config().listen.port, lb.proxyAddr.port, "still the old listener in the config");
    await waitFor(() => lb.pool.get("b0")?.state === "healthy", 2000, "new b0 probed");
    assert.equal(await (await fetch(lb.url)).text(), "a2");
    assert.ok(lb.logLines.some((l) => l.startsWith("warn listener address changes need a restart")));
  } finally {
    await lb.shutdown();
    await Promise.all([a.close(), a2.close()]);
    await cleanup();
  }
});

Deno.test("POST /api/backends/{name}/drain stops new traffic and /enable brings it back", async () => {
  const a = startBackend(() => new Response("a"));
  const b = startBackend(() => new Response("b"));
  const lb = await startLb([a.url, b.url], 'admin: {listen: "127.0.0.1:0", token: s3cret}\nslow_start: 10s');
  try {
    const post = (path: string, auth = true) =>
      fetch(`${lb.adminUrl}${path}`, {
        method: "POST",
        headers: auth ? { authorization: "Bearer s3cret" } : {},
      });
    assert.equal((await post("/api/backends/b0/drain", false)).status, 401);
    await (await post("/api/reload", false)).body?.cancel();
    const drained = await post("/api/backends/b0/drain");
    assert.equal(drained.status, 200);
    assert.equal((await drained.json()).state, "draining");
    for (let i = 0; i < 4; i++) assert.equal(await (await fetch(lb.url)).text(), "b");
    // Health checks keep passing but do not undrain.
    const passed = async () =>
      (await scrape(lb)).get('lb_health_checks_total{service="default",backend="b0",result="success"}') ?? 0;
    const before = await passed();
    await waitFor(async () => await passed() >= before + 3, 10_000, "three more passing checks");
    assert.equal(lb.pool.get("b0")!.state, "draining");
    const enabled = await (await post("/api/backends/b0/enable")).json();
    assert.equal(enabled.state, "healthy");
    assert.ok(enabled.effective_weight < 0.2, "ramps up with slow start");
    assert.equal((await post("/api/backends/nope/drain")).status, 404);
    assert.equal((await fetch(`${lb.adminUrl}/api/backends/b0/drain`)).status, 405);
    assert.equal((await post("/api/reload")).status, 501, "no config file behind this proxy");
  } finally {
    await lb.shutdown();
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("POST /api/reload applies new strategy tuning by rebuilding the strategy", async () => {
  const be = startBackend();
  const { lb, reload, cleanup } = await setup([be]);
  try {
    const same = await reload(fileFor(lb, [["b0", be]]));
    assert.equal(same.status, 200);
    assert.equal(same.body.strategy_retuned, false);
    const r = await reload(
      fileFor(lb, [["b0", be]], "peak_ewma: {decay: 2s}\nleast_resources: {cpu_weight: 1, memory_weight: 0}"),
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.strategy_retuned, true);
    assert.deepEqual(lb.balancer.tuning, { ewmaDecayMs: 2000, cpuWeight: 1, memoryWeight: 0 });
    assert.equal((await fetch(lb.url)).status, 200);
  } finally {
    await lb.shutdown();
    await be.close();
    await cleanup();
  }
});

Deno.test("POST /api/reload that changes the strategy shows in /api/stats' strategy_changes", async () => {
  const be = startBackend();
  const { lb, reload, cleanup } = await setup([be]);
  try {
    const r = await reload(fileFor(lb, [["b0", be]], "strategy: random"));
    assert.deepEqual([r.status, r.body.previous_strategy, r.body.strategy], [200, "round_robin", "random"]);
    const stats = await (await fetch(`${lb.adminUrl}/api/stats`)).json();
    const changes = stats.services[0].strategy_changes;
    assert.deepEqual(changes.map((c: { from: string; to: string }) => [c.from, c.to]), [[
      "round_robin",
      "random",
    ]]);
    assert.ok(changes[0].seconds_ago < 5, `${changes[0].seconds_ago} s ago`);
  } finally {
    await lb.shutdown();
    await be.close();
    await cleanup();
  }
});

Deno.test("POST /api/reload sends a new backend nothing between the reload and its first passing probe", async () => {
  const a = startBackend(() => new Response("a"));
  // The new backend's first probe is held until the test lets it answer.
  let answerProbe!: () => void;
  const probeHeld = new Promise<void>((r) => answerProbe = r);
  let probes = 0;
  let served = 0;
  const c = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname === "/health") {
      probes++;
      await probeHeld;
      return new Response("ok");
    }
    served++;
    return new Response("c");
  });
  const cUrl = `http://127.0.0.1:${c.addr.port}`;
  const { lb, reload, cleanup } = await setup([a]);
  try {
    const r = await reload(
      `listen: "127.0.0.1:${lb.proxyAddr.port}"\nadmin: {listen: "127.0.0.1:${lb.adminAddr.port}"}\n` +
        "health_check: {interval: 50ms, timeout: 10s, healthy_threshold: 1, unhealthy_threshold: 1}\n" +
        `backends:\n  - {name: b0, url: "${a.url}"}\n  - {name: b1, url: "${cUrl}"}\n`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.added, ["b1"]);
    await waitFor(() => probes >= 1, 5000, "the first probe of b1 under way");
    // The window: b1 is in the pool, its probe has not answered, and it gets no request.
    assert.equal(lb.pool.get("b1")?.state, "unknown");
    const api = await (await fetch(`${lb.adminUrl}/api/backends`)).json() as {
      name: string;
      state: string;
    }[];
    assert.equal(api.find((b) => b.name === "b1")?.state, "unknown");
    for (let i = 0; i < 10; i++) assert.equal(await (await fetch(lb.url)).text(), "a");
    assert.equal(served, 0);
    answerProbe();
    await waitFor(() => lb.pool.get("b1")?.state === "healthy", 5000, "b1 healthy after its probe");
    const texts = new Set<string>();
    for (let i = 0; i < 4; i++) texts.add(await (await fetch(lb.url)).text());
    assert.deepEqual([...texts].sort(), ["a", "c"]);
  } finally {
    answerProbe();
    await lb.shutdown();
    await a.close();
    await c.shutdown();
    await cleanup();
  }
});
