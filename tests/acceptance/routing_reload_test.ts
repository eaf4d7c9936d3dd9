/**
 * Acceptance: reloads that add a service and a route, change a strategy, and remove a service
 * and its route, all under steady load on every route, fail no request.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/config.ts";
import { scrape, startBackend, startLbFrom, waitFor } from "../_util/harness.ts";
import { runLoad } from "../_util/rate_load.ts";

const HEALTH = "health_check: {interval: 200ms, timeout: 5s, healthy_threshold: 1, unhealthy_threshold: 2}";

Deno.test("reloads add, change and remove services and routes under load with no failed request", async () => {
  // 30 ms per response: every service always has requests in flight when a reload lands.
  const answer = (name: string) => () =>
    new Promise<Response>((r) =>
      setTimeout(() => r(new Response(name, { headers: { "x-lb-backend": name } })), 30)
    );
  const [w1, w2, a1, b1] = ["w1", "w2", "a1", "b1"].map((n) => startBackend(answer(n)));
  const service = (name: string, strategy: string, list: [string, { url: string }][]) =>
    `  ${name}:\n    strategy: ${strategy}\n    backends:\n${
      list.map(([n, b]) => `      - {name: ${n}, url: "${b.url}"}`).join("\n")
    }\n`;
  const web = (strategy: string) => service("web", strategy, [["w1", w1], ["w2", w2]]);
  const api = service("api", "least_connections", [["a1", a1]]);
  const beta = service("beta", "round_robin", [["b1", b1]]);
  const route = (prefix: string, to: string) => `  - match: {path_prefix: ${prefix}}\n    service: ${to}\n`;
  const files = [
    // Start: web and api.
    `${HEALTH}\nservices:\n${web("round_robin")}${api}routes:\n${route("/api", "api")}  - service: web\n`,
    // Reload 1: beta and its route join, web switches strategy.
    `${HEALTH}\nservices:\n${web("random")}${api}${beta}routes:\n${route("/api", "api")}${
      route("/beta", "beta")
    }  - service: web\n`,
    // Reload 2: api and its route leave; /api falls through to web.
    `${HEALTH}\nservices:\n${web("random")}${beta}routes:\n${route("/beta", "beta")}  - service: web\n`,
  ];
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.yml`;
  await Deno.writeTextFile(path, files[0]);
  const lb = await startLbFrom(files[0], { configSource: () => loadConfig(path, () => undefined) });
  const reloads: Record<string, unknown>[] = [];
  let a1InFlight = -1;
  const reload = async (i: number) => {
    await Deno.writeTextFile(path, files[i]);
    if (i === 2) a1InFlight = lb.service("api").pool.get("a1")!.inFlight;
    const r = await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" });
    reloads.push({ status: r.status, ...(await r.json()) });
  };
  try {
    let step = 0;
    const load = (p: string, onTick?: (t: number) => Promise<void>) =>
      runLoad(lb.url, { rate: 100, durationMs: 3000, path: p, onTick });
    const [toWeb, toApi, toBeta] = await Promise.all([
      load("/web", async (t) => {
        if (step === 0 && t > 800) await reload(++step);
        else if (step === 1 && t > 1800) await reload(++step);
      }),
      load("/api/x"),
      load("/beta/x"),
    ]);
    for (const [what, r] of [["/web", toWeb], ["/api", toApi], ["/beta", toBeta]] as const) {
      assert.deepEqual(r.failures, [], `${what}: ${r.failures.length} of ${r.sent} failed`);
    }
    assert.deepEqual(reloads.map((r) => [r.status, r.services_added, r.services_removed]), [
      [200, ["beta"], []],
      [200, [], ["api"]],
    ]);
    assert.equal((reloads[0].strategies as Record<string, { strategy: string }>).web.strategy, "random");
    assert.ok(a1InFlight > 0, "the removed service had requests in flight");
    assert.ok(
      (toBeta.byBackend.get("b1") ?? 0) > 50,
      `b1 answered ${toBeta.byBackend.get("b1")} once routed`,
    );
    assert.ok(
      (toBeta.byBackend.get("w1") ?? 0) + (toBeta.byBackend.get("w2") ?? 0) > 20,
      "web before the route",
    );
    assert.ok((toApi.byBackend.get("a1") ?? 0) > 50 && (toApi.byBackend.get("w1") ?? 0) > 10);
    assert.deepEqual(lb.services.all().map((s) => s.name), ["web", "beta"]);
    await waitFor(
      async () => !(await scrape(lb)).has('lb_backend_up{service="api",backend="a1"}'),
      3000,
      "api's series gone",
    );
    const m = await scrape(lb);
    assert.equal(m.get('lb_strategy_info{service="api",strategy="least_connections"}'), undefined);
    assert.equal(m.get('lb_strategy_info{service="beta",strategy="round_robin"}'), 1);
    console.log(
      `sent ${
        toWeb.sent + toApi.sent + toBeta.sent
      }, failed 0; a1 had ${a1InFlight} in flight when api was removed`,
    );
  } finally {
    await lb.shutdown();
    await Promise.all([w1, w2, a1, b1].map((b) => b.close()));
    await Deno.remove(dir, { recursive: true });
  }
});
