/**
 * Every dashboard query (panel targets, annotations, variables) evaluated on a real Prometheus
 * scraping a real proxy with two services under load: HTTP/1.1 and h2 (curl) over the TLS
 * listener, a WebSocket tunnel open, plaintext sent to the TLS port, retried 503s, hedged
 * requests, load reports (ORCA) from one service's backends, a failed reload and the alert rules
 * loaded. Each query must return finite series; an
 * empty one is accepted only when its panel says what it shows instead ("none") and a metric it
 * reads has no sample.
 */
import assert from "node:assert/strict";
import { STRATEGY_SWITCHES } from "../../grafana/build/queries.ts";
import { parseConfig } from "../../lib/config/config.ts";
import { repoPath, RULES } from "../_util/alert_rules.ts";
import { interpolate, labelValuesQuery, queriesOf, readDashboards, sampledNames } from "../_util/grafana.ts";
import { rawRequest, startBackend, startLbFrom, type TestLb } from "../_util/harness.ts";
import { sleep, steadyLoad } from "../_util/load.ts";
import { startPrometheus, type TestPrometheus } from "../_util/prometheus.ts";
import { makeCa } from "../_util/tls.ts";
import { evaluateQueries } from "../_util/dashboard_eval.ts";
import { gatedTest, needs } from "../_util/tools.ts";
import { closed, nextMessage, openClient } from "../_util/ws.ts";

/**
 * `curl` over TLS with the test CA, one connection for all `urls` (globs allowed); h2 by ALPN
 * unless `--http1.1` is among `flags`. Returns the HTTP version of each response, one a line.
 */
async function curl(caFile: string, flags: string[], urls: string[]): Promise<string> {
  const out = await new Deno.Command("curl", {
    args: [
      "-sS",
      "-m",
      "20",
      "--cacert",
      caFile,
      "-w",
      "%{http_version}\n",
      ...flags,
      ...urls.flatMap((u) => ["-o", "/dev/null", u]),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, dec.decode(out.stderr));
  return dec.decode(out.stdout);
}

async function putStrategy(lb: TestLb, service: string, strategy: string): Promise<void> {
  const put = await fetch(`${lb.adminUrl}/api/services/${service}/strategy`, {
    method: "PUT",
    body: JSON.stringify({ strategy }),
  });
  assert.equal(put.status, 200, await put.text());
}

gatedTest(
  "every dashboard query returns series from a real Prometheus scraping a two-service proxy under load",
  needs("prometheus", "promtool", "openssl", "curl"),
  async () => {
    const repoConfig = await new Deno.Command("promtool", {
      args: ["check", "config", repoPath("prometheus.yml")],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(repoConfig.code, 0, new TextDecoder().decode(repoConfig.stderr));

    const ca = await makeCa();
    const cert = await ca.issue("localhost", "127.0.0.1");
    // web: latency and status codes that differ by backend, so every code class and quantile
    // moves, and 503s that get retried. api: WebSocket echo besides plain requests, and a load
    // report (Endpoint-Load-Metrics) on every answer, so the reported-load panels have series.
    const web = [
      startBackend(async (req) => {
        await sleep(1);
        return new Response("fast", { status: new URL(req.url).pathname === "/missing" ? 404 : 200 });
      }),
      startBackend(async () => (await sleep(10 + Math.random() * 20), new Response("slow"))),
      startBackend(async () => {
        await sleep(Math.random() * 5);
        return new Response("flaky", { status: Math.random() < 0.15 ? 503 : 200 });
      }),
    ];
    const utilization = [0.2, 0.3];
    const api = utilization.map((u) =>
      startBackend(async (req) => {
        if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
          const { socket, response } = Deno.upgradeWebSocket(req);
          socket.onmessage = (e) => socket.send(e.data);
          return response;
        }
        await sleep(2 + Math.random() * 3);
        return new Response("api", { headers: { "endpoint-load-metrics": `TEXT cpu_utilization=${u}` } });
      })
    );
    const list = (prefix: string, bs: { url: string }[]) =>
      `[${bs.map((b, i) => `{name: ${prefix}${i}, url: "${b.url}"}`).join(", ")}]`;
    const lb = await startLbFrom(
      `
# A 5 s check timeout outlasts a busy machine's stalls, and no passive health: every backend takes
# traffic under both strategies, so each backend's quantiles have samples in both.
health_check: {interval: 100ms, timeout: 5s, healthy_threshold: 1, unhealthy_threshold: 1}
passive: {consecutive_failures: 0}
tls: {listen: "127.0.0.1:0", cert: "${cert.certFile}", key: "${cert.keyFile}"}
services:
  web: {backends: ${list("w", web)}, hedging: {delay: p50, max_ratio: 0.2}}
  api: {backends: ${list("a", api)}}
routes:
  - {match: {path_prefix: /api}, service: api}
  - service: web
`,
      // Every reload reads a broken file: lb_config_reloads_total and the LbConfigReloadFailed alert.
      { configSource: () => Promise.resolve(parseConfig("backends: [", { file: "lb.yml" })) },
    );
    const https = `https://localhost:${lb.tlsAddr!.port}`;
    let prometheus: TestPrometheus | undefined;
    const tunnel = await openClient(`ws://127.0.0.1:${lb.proxyAddr.port}/api/ws`);
    try {
      prometheus = await startPrometheus([`127.0.0.1:${lb.adminAddr.port}`], {
        ruleFiles: [repoPath(RULES)],
      });
      tunnel.send("ping");
      assert.equal(String((await nextMessage(tunnel))[0]), "ping");
      const reload = await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" });
      await reload.body?.cancel();

      const { strategy: first, available } = await (await fetch(`${lb.adminUrl}/api/services/web/strategy`))
        .json() as { strategy: string; available: string[] };
      const second = available.find((s) => s !== first) ?? first;
      const loadStart = Date.now() / 1000;
      let n = 0;
      const path = () => ["/", "/api/x", "/", "/api/y", Math.random() < 0.2 ? "/missing" : "/"][n++ % 5];
      for (const strategy of [first, second]) {
        for (const service of ["web", "api"]) await putStrategy(lb, service, strategy);
        const [h1, h2, h11] = await Promise.all([
          steadyLoad(lb.url, { concurrency: 3, maxRequests: 4000, maxMs: 6000, pauseMs: 10, path }),
          curl(ca.caFile, [], [`${https}/h2/[1-150]`, `${https}/api/h2/[1-150]`]),
          curl(ca.caFile, ["--http1.1"], [`${https}/tls/[1-50]`]),
          // Plaintext on the TLS port: a handshake failure (reason "protocol").
          rawRequest(lb.tlsAddr!.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ]);
        assert.deepEqual(h1.failures, []);
        assert.deepEqual(new Set(h2.trim().split("\n")), new Set(["2"]));
        assert.deepEqual(new Set(h11.trim().split("\n")), new Set(["1.1"]));
      }
      const loadEnd = Date.now() / 1000;
      await sleep(2500); // the last scrape after the load
      const sampled = sampledNames(await (await fetch(`${lb.adminUrl}/metrics`)).text());

      const range = Math.ceil(loadEnd - loadStart);
      const builtins = { __rate_interval: "4s", __interval: "1s", __range: `${range}s` };
      const window = { start: loadStart, end: loadEnd, builtins };
      const problems: string[] = [];
      const empty: string[] = [];
      let checked = 0;
      for (const d of await readDashboards()) {
        // Variables in dashboard order, each query interpolated with the values before it, the
        // way Grafana refreshes them; All selects every value.
        const values: Record<string, string[]> = {};
        for (const q of queriesOf(d).filter((q) => q.where.startsWith("variable: "))) {
          const name = q.where.slice("variable: ".length);
          const { match, label } = labelValuesQuery(q.expr);
          values[name] = await prometheus.labelValues(label, interpolate(match, values, builtins));
          checked++;
        }
        assert.deepEqual(values.service, ["api", "web"], d.file);
        assert.deepEqual(values.backend, ["a0", "a1", "w0", "w1", "w2"], d.file);
        assert.deepEqual(values.strategy, [...new Set([first, second])].sort(), d.file);

        const result = await evaluateQueries(prometheus, [d], values, window, sampled);
        checked += result.checked;
        problems.push(...result.problems);
        empty.push(...result.empty);
      }
      for (const e of empty) console.log(`empty by design: ${e}`);
      console.log(`evaluated ${checked} dashboard queries in Prometheus`);
      assert.deepEqual(problems, []);
      assert.ok(checked >= 60, `only ${checked} queries evaluated`);

      // What the new panels show, by label value.
      const at = (expr: string) => prometheus!.query(expr, loadEnd);
      const protocols = (await at("sum by (protocol) (lb_requests_total)")).map((s) => s.metric.protocol);
      for (const p of ["http/1.1", "h2"]) assert.ok(protocols.includes(p), `protocol ${p} in ${protocols}`);
      const tls = await at("sum by (reason) (lb_tls_handshake_failures_total)");
      assert.ok(tls.some((s) => s.metric.reason === "protocol"), JSON.stringify(tls));
      const tunnels = await at('sum by (service) (lb_open_tunnels{service="api"})');
      assert.equal(tunnels[0]?.values[0][1], "1", "one WebSocket tunnel open through api");
      const alerts = await at("count by (alertname) (ALERTS)");
      assert.ok(alerts.some((s) => s.metric.alertname === "LbConfigReloadFailed"), JSON.stringify(alerts));
      const retries = await at("sum by (service) (lb_retries_total)");
      assert.ok(
        retries.some((s) => s.metric.service === "web" && Number(s.values[0][1]) > 0),
        "503s retried",
      );

      const hedges = await at("sum by (service) (lb_hedges_total)");
      assert.ok(hedges.some((s) => s.metric.service === "web" && Number(s.values[0][1]) > 0), "web hedges");

      // Reported load: api's backends report theirs, web's none (their counters stay at 0).
      const reported = await at("lb_backend_reported_utilization");
      assert.deepEqual(
        reported.map((s) => `${s.metric.service}/${s.metric.backend}=${s.values[0][1]}`).sort(),
        utilization.map((u, i) => `api/a${i}=${u}`),
      );
      const reports = await at('sum by (service) (lb_load_reports_total{result="valid"})');
      assert.deepEqual(
        reports.map((s) => [s.metric.service, Number(s.values[0][1]) > 0]).sort(),
        [["api", true], ["web", false]],
        JSON.stringify(reports),
      );
      // The failed reload is the last one; every backend healthy; nothing queued (no max_connections).
      const lastReload = await at("lb_config_last_reload_successful");
      assert.deepEqual(lastReload.map((s) => s.values[0][1]), ["0"], "the last reload failed");
      const states = await at('sum by (service) (lb_backend_state{state="healthy"})');
      assert.deepEqual(
        states.map((s) => `${s.metric.service}=${s.values[0][1]}`).sort(),
        ["api=2", "web=3"],
      );
      const queued = await at("sum by (service) (lb_queued_requests)");
      assert.deepEqual(queued.map((s) => `${s.metric.service}=${s.values[0][1]}`).sort(), ["api=0", "web=0"]);

      // The strategy annotation marks the switch (and the start), in both services.
      const marks = await prometheus.queryRange(STRATEGY_SWITCHES, loadStart - 10, loadEnd, 1);
      for (const service of ["web", "api"]) {
        assert.ok(marks.some((s) => s.metric.strategy === second && s.metric.service === service), service);
      }
    } finally {
      tunnel.close();
      await closed(tunnel).catch(() => {});
      await prometheus?.close();
      await lb.shutdown();
      await Promise.all([...web, ...api].map((b) => b.close()));
      await ca.cleanup();
    }
  },
);
