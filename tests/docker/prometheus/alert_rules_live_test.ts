/**
 * The alert rules on a real Prometheus scraping a real proxy in trouble: each alert must become
 * active, and none before the trouble. This catches what promtool's unit tests cannot, a metric or
 * label name (or value, such as `le="0.5"`) that the proxy does not export as the rules spell it.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../../lib/config/config.ts";
import { readAlerts, repoPath, RULES } from "../../_util/alert_rules.ts";
import { startBackend, startLbFrom } from "../../_util/harness.ts";
import { sleep, steadyLoad } from "../../_util/load.ts";
import { startPrometheus, type TestPrometheus } from "../../_util/prometheus.ts";
import { gatedTest, needs } from "../../_util/tools.ts";

interface ActiveAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
}

gatedTest(
  "every alert of alert_rules.yml goes pending or firing on a real Prometheus scraping a proxy in trouble, and none before",
  needs("prometheus"),
  async () => {
    const web = [startBackend(), startBackend()];
    const api = startBackend();
    let slowMs = 0;
    const slow = startBackend(async () => (await sleep(slowMs), new Response("slow")));
    let flakyStatus = 200;
    const flaky = startBackend(() => new Response("flaky", { status: flakyStatus }));
    const backends = [...web, api, slow, flaky];
    const lb = await startLbFrom(
      `
health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}
services:
  web:
    backends: [{name: w0, url: "${web[0].url}"}, {name: w1, url: "${web[1].url}"}]
  api:
    backends: [{name: a0, url: "${api.url}"}]
  slow:
    backends: [{name: s0, url: "${slow.url}"}]
  flaky:
    retries: {budget: 0, min_per_second: 0}
    passive: {consecutive_failures: 0}
    backends: [{name: f0, url: "${flaky.url}"}]
routes:
  - {match: {path_prefix: /api}, service: api}
  - {match: {path_prefix: /slow}, service: slow}
  - {match: {path_prefix: /flaky}, service: flaky}
  - service: web
`,
      // Every reload reads a broken file.
      { configSource: () => Promise.resolve(parseConfig("backends: [", { file: "lb.yml" })) },
    );
    const instance = `127.0.0.1:${lb.adminAddr.port}`;
    const stop = new AbortController();
    let load: Promise<unknown> = Promise.resolve();
    let running = true;
    let prometheus: TestPrometheus | undefined;
    try {
      prometheus = await startPrometheus([instance], { ruleFiles: [repoPath(RULES)] });
      const { get } = prometheus;
      const ruleList = await readAlerts();
      const alertNames = ruleList.map((a) => a.alert!);
      const active = async () => (await get<{ alerts: ActiveAlert[] }>("/api/v1/alerts")).alerts;
      // Traffic to every service, all the time (bounded), so every rate has samples.
      const paths = ["/", "/api", "/slow", "/flaky"];
      let i = 0;
      load = steadyLoad(lb.url, {
        concurrency: 4,
        maxRequests: 20_000,
        maxMs: 60_000,
        pauseMs: 20,
        signal: stop.signal,
        path: () => paths[i++ % paths.length],
      });

      // Healthy: a few evaluations with data and every rule evaluated, nothing active.
      await sleep(4000);
      type Rules = { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
      const rules = (await get<Rules>("/api/v1/rules")).groups.flatMap((g) => g.rules);
      assert.deepEqual(rules.filter((r) => r.health !== "ok"), [], "every rule evaluates");
      assert.deepEqual(alertNames.filter((n) => !rules.some((r) => r.name === n)), [], "every alert loaded");
      assert.deepEqual(await active(), [], "no alert while everything is healthy");

      // Trouble, one kind per service.
      web[1].healthy = false; // LbBackendDown
      api.healthy = false; // LbServiceNoHealthyBackend (and LbBackendDown for a0)
      slowMs = 600; // LbLatencyBudgetBurnFast and Slow: every request misses 0.5 s
      flakyStatus = 503; // LbServiceHigh5xxRatio, and LbRetryBudgetExhausted (budget 0)
      const reload = await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" }); // LbConfigReloadFailed
      assert.equal(reload.status, 422);
      await reload.body?.cancel();

      const want: Record<string, Record<string, string>> = {
        LbBackendDown: { service: "web", backend: "w1", state: "unhealthy" },
        LbServiceNoHealthyBackend: { service: "api", instance },
        LbLatencyBudgetBurnFast: { service: "slow" },
        LbLatencyBudgetBurnSlow: { service: "slow" },
        LbServiceHigh5xxRatio: { service: "flaky" },
        LbRetryBudgetExhausted: { service: "flaky" },
        LbConfigReloadFailed: { instance, job: "lb" },
      };
      const found = (alerts: ActiveAlert[], name: string) =>
        alerts.find((a) =>
          a.labels.alertname === name && Object.entries(want[name]).every(([k, v]) => a.labels[k] === v)
        );
      const deadline = performance.now() + 30_000;
      let alerts: ActiveAlert[] = [];
      while (Object.keys(want).some((name) => !found(alerts, name))) {
        assert.ok(
          performance.now() < deadline,
          `not active within 30 s: ${Object.keys(want).filter((n) => !found(alerts, n))}; active: ${
            JSON.stringify(alerts.map((a) => a.labels))
          }`,
        );
        await sleep(500);
        alerts = await active();
      }
      // Alerts without `for` fire at once; the others wait out theirs (minutes) in pending.
      for (const name of Object.keys(want)) {
        const rule = ruleList.find((a) => a.alert === name)!;
        assert.equal(found(alerts, name)!.state, rule.for ? "pending" : "firing", name);
      }
      assert.equal(found(alerts, "LbBackendDown")!.labels.severity, "ticket");
      assert.ok(!alerts.some((a) => a.labels.alertname === "LbBackendDown" && a.labels.backend === "w0"));

      // The proxy gone: LbDown.
      stop.abort();
      await load;
      await lb.shutdown();
      running = false;
      want.LbDown = { instance, job: "lb" };
      await (async () => {
        const until = performance.now() + 15_000;
        while (!found(alerts = await active(), "LbDown")) {
          assert.ok(performance.now() < until, "LbDown not active within 15 s of the proxy stopping");
          await sleep(500);
        }
      })();
      assert.deepEqual(
        alertNames.filter((n) => !(n in want)),
        [],
        "every alert of the rules file is brought about here",
      );
    } finally {
      stop.abort();
      await load;
      await prometheus?.close();
      if (running) await lb.shutdown();
      await Promise.all(backends.map((b) => b.close()));
    }
  },
);
