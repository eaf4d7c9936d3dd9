import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { BACKEND_STATES, registerStateGauges } from "../../../lib/metrics/state_metrics.ts";
import { nodeRequest, scrape, startBackend, startLbFrom, type TestLb, waitFor } from "../../_util/harness.ts";

const HEALTH = "health_check: {interval: 50ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";

/** `lb_backend_state` of one backend: the states at 1 (exactly one), after checking all five are there. */
async function stateOf(lb: TestLb, service: string, backend: string): Promise<string> {
  const m = await scrape(lb);
  const at = (state: string) =>
    m.get(`lb_backend_state{service="${service}",backend="${backend}",state="${state}"}`);
  assert.deepEqual(
    BACKEND_STATES.filter((s) => at(s) === undefined),
    [],
    `${service}/${backend}: every state`,
  );
  const on = BACKEND_STATES.filter((s) => at(s) === 1);
  assert.equal(on.length, 1, `${service}/${backend}: one state at 1, got ${on}`);
  return on[0];
}

const healthy = async (lb: TestLb, service: string) =>
  (await scrape(lb)).get(`lb_service_healthy_backends{service="${service}"}`);

Deno.test("lb_backend_state tells a failing health check from a drain and an ejection; lb_service_healthy_backends counts what can serve", async () => {
  const [w0, w1, w2] = [startBackend(), startBackend(), startBackend()];
  const w3 = startBackend(() => new Response("broken", { status: 500 }));
  const dir = await Deno.makeTempDir();
  // `empty` has no backend: Docker discovery (its socket missing here) would add them.
  const lb = await startLbFrom(
    `${HEALTH}
discovery: {docker: {enabled: true, socket: "${dir}/docker.sock", label: lb-test.never}}
services:
  web:
    retries: {attempts: 0}
    passive: {consecutive_failures: 1, max_ejected_percent: 50}
    backends:
      - {name: w0, url: "${w0.url}"}
      - {name: w1, url: "${w1.url}"}
      - {name: w2, url: "${w2.url}"}
      - {name: w3, url: "${w3.url}"}
  empty: {}
routes:
  - {match: {path_prefix: /empty}, service: empty}
  - service: web
`,
    { discoveryWaitMs: 300 },
  );
  try {
    for (const b of ["w0", "w1", "w2", "w3"]) assert.equal(await stateOf(lb, "web", b), "healthy");
    assert.equal(await healthy(lb, "web"), 4);
    assert.equal(await healthy(lb, "empty"), 0, "a service without backends has its series, at 0");
    assert.equal((await nodeRequest(`${lb.url}/empty`)).status, 503);

    w1.healthy = false;
    await waitFor(async () => await stateOf(lb, "web", "w1") === "unhealthy", 3000, "w1 unhealthy");
    const drain = await fetch(`${lb.adminUrl}/api/services/web/backends/w2/drain`, { method: "POST" });
    assert.equal(drain.status, 200);
    await drain.body?.cancel();
    assert.equal(await stateOf(lb, "web", "w2"), "draining");
    // Round robin over w0 and w3: w3's first 500 ejects it.
    for (let i = 0; i < 6 && lb.service("web").pool.get("w3")!.state !== "ejected"; i++) {
      await nodeRequest(`${lb.url}/`);
    }
    assert.equal(await stateOf(lb, "web", "w3"), "ejected");
    assert.equal(await stateOf(lb, "web", "w0"), "healthy");
    assert.equal(await healthy(lb, "web"), 1);

    w1.healthy = true;
    await waitFor(async () => await stateOf(lb, "web", "w1") === "healthy", 3000, "w1 healthy again");
    assert.equal(await healthy(lb, "web"), 2);
  } finally {
    await lb.shutdown();
    await Promise.all([w0, w1, w2, w3].map((b) => b.close()));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("registerStateGauges() counts a backend listed twice once: the live one, not the replaced one finishing", async () => {
  const registry = new Registry();
  registerStateGauges(registry, () => [{
    service: "web",
    backends: () => [{ name: "a", state: "healthy" }, { name: "a", state: "draining" }],
  }]);
  const text = await registry.metrics();
  assert.match(text, /^lb_backend_state\{service="web",backend="a",state="healthy"\} 1$/m);
  assert.match(text, /^lb_backend_state\{service="web",backend="a",state="draining"\} 0$/m);
  assert.match(text, /^lb_service_healthy_backends\{service="web"\} 1$/m);
});
