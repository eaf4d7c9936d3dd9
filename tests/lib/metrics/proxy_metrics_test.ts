import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { methodLabel } from "../../../lib/metrics/proxy_metrics.ts";
import { VERSION } from "../../../lib/base/version.ts";
import { sleep } from "../../_util/load.ts";
import { nodeRequest, scrape, startBackend, startLb } from "../../_util/harness.ts";
import { gatedTest, needs } from "../../_util/tools.ts";

Deno.test("methodLabel() folds unknown methods into OTHER", () => {
  assert.equal(methodLabel("GET"), "GET");
  assert.equal(methodLabel("PATCH"), "PATCH");
  assert.equal(methodLabel("BREW"), "OTHER");
  assert.equal(methodLabel("get"), "OTHER");
});

Deno.test("metrics count known traffic exactly, per backend, method and code", async () => {
  const ok = startBackend(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/slow") await sleep(30);
    return new Response("x", { status: path === "/missing" ? 404 : 200 });
  });
  const down = startBackend();
  down.healthy = false;
  const lb = await startLb([ok.url, down.url]);
  try {
    const m0 = await scrape(lb);
    // Every configured backend is present from start, healthy or not.
    for (const b of ["b0", "b1"]) {
      assert.equal(m0.get(`lb_active_connections{service="default",backend="${b}"}`), 0);
      assert.equal(m0.get(`lb_upstream_errors_total{service="default",backend="${b}",kind="connect"}`), 0);
      assert.equal(
        m0.get(`lb_request_duration_seconds_count{service="default",backend="${b}",strategy="round_robin"}`),
        0,
      );
      assert.ok(m0.has(`lb_health_checks_total{service="default",backend="${b}",result="failure"}`));
      assert.ok(
        m0.has(
          `lb_requests_total{service="default",backend="${b}",strategy="round_robin",method="GET",code="200",protocol="http/1.1"}`,
        ),
      );
    }
    assert.equal(m0.get('lb_backend_up{service="default",backend="b0"}'), 1);
    assert.equal(m0.get('lb_backend_up{service="default",backend="b1"}'), 0);
    assert.equal(m0.get('lb_strategy_info{service="default",strategy="round_robin"}'), 1);
    assert.equal(m0.get(`lb_build_info{version="${VERSION}"}`), 1);
    assert.deepEqual([...m0.keys()].filter((k) => k.startsWith("lb_build_info")), [
      `lb_build_info{version="${VERSION}"}`,
    ]);

    for (let i = 0; i < 7; i++) await nodeRequest(`${lb.url}/`);
    for (let i = 0; i < 3; i++) await nodeRequest(`${lb.url}/missing`);
    await nodeRequest(`${lb.url}/`, { method: "POST", body: "x" });
    await nodeRequest(`${lb.url}/`, { method: "BREW" });
    await nodeRequest(`${lb.url}/slow`);

    const m = await scrape(lb);
    const key = (method: string, code: number) =>
      `lb_requests_total{service="default",backend="b0",strategy="round_robin",method="${method}",code="${code}",protocol="http/1.1"}`;
    assert.equal(m.get(key("GET", 200)), 8);
    assert.equal(m.get(key("GET", 404)), 3);
    assert.equal(m.get(key("POST", 200)), 1);
    assert.equal(m.get(key("OTHER", 200)), 1);
    assert.equal(
      m.get('lb_request_duration_seconds_count{service="default",backend="b0",strategy="round_robin"}'),
      13,
    );
    // The buckets the README lists, cumulative; the 30 ms request is above 25 ms whatever the machine.
    const bucket = (le: string) =>
      m.get(
        `lb_request_duration_seconds_bucket{le="${le}",service="default",backend="b0",strategy="round_robin"}`,
      );
    const les = [...m.keys()].filter((k) =>
      k.startsWith("lb_request_duration_seconds_bucket{") && k.includes('backend="b0"')
    )
      .map((k) => /le="([^"]+)"/.exec(k)![1]);
    assert.deepEqual(les, [
      "0.001",
      "0.0025",
      "0.005",
      "0.01",
      "0.025",
      "0.05",
      "0.1",
      "0.25",
      "0.5",
      "1",
      "2.5",
      "5",
      "10",
      "+Inf",
    ]);
    for (let i = 1; i < les.length; i++) {
      assert.ok(bucket(les[i])! >= bucket(les[i - 1])!, `cumulative at ${les[i]}`);
    }
    assert.equal(bucket("+Inf"), 13);
    assert.ok(bucket("0.025")! <= 12, "the 30 ms request is not at or under 25 ms");
    assert.ok(
      (m.get('lb_request_duration_seconds_sum{service="default",backend="b0",strategy="round_robin"}') ?? 0) >
        0,
    );
    assert.equal(
      m.get(
        'lb_requests_total{service="default",backend="b1",strategy="round_robin",method="GET",code="200",protocol="http/1.1"}',
      ),
      0,
    );
    assert.ok((m.get('lb_health_checks_total{service="default",backend="b1",result="failure"}') ?? 0) >= 1);
  } finally {
    await lb.shutdown();
    await ok.close();
    await down.close();
  }
});

gatedTest("metrics output passes promtool check metrics", needs("promtool"), async () => {
  const be = startBackend();
  const lb = await startLb([be.url], "", { registry: new Registry(), processMetrics: true });
  try {
    for (let i = 0; i < 5; i++) await nodeRequest(`${lb.url}/`);
    const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    assert.match(text, /process_cpu_user_seconds_total/, "default process metrics collected");
    const p = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    })
      .spawn();
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(text));
    await w.close();
    const out = await p.output();
    const report = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, report);
    assert.equal(report.trim(), "", `promtool reported problems:\n${report}`);
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("process metrics report real memory under the proxy's permissions, and no false zeros", async () => {
  const { Registry } = await import("prom-client");
  const { Metrics } = await import("../../../lib/metrics/proxy_metrics.ts");
  const metrics = new Metrics(new Registry(), true);
  const text = await metrics.registry.metrics();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
  assert.ok(value("process_resident_memory_bytes") > 10 * 1024 * 1024, "rss of a running Deno is tens of MB");
  assert.ok(value("process_heap_bytes") > 1024 * 1024);
  assert.ok(value("process_cpu_seconds_total") > 0);
  for (const name of ["process_open_fds", "process_max_fds", "process_virtual_memory_bytes"]) {
    assert.ok(!new RegExp(`^${name} `, "m").test(text), `${name} is not exported as a false 0`);
  }
});
