import assert from "node:assert/strict";
import { renderDashboards } from "../../grafana/build/main.ts";
import {
  allPanels,
  metricNames,
  provisionedDatasourceName,
  provisionedDatasourceUid,
  queriesOf,
  readDashboards,
} from "../_util/grafana.ts";
import { startBackend, startLb, type TestLb } from "../_util/harness.ts";

/**
 * Static checks of the provisioned dashboards: generated == committed, the SDK build matches the
 * provisioned Grafana, datasource references, variables, grid, and every metric they read is one
 * the proxy registers. dashboard_queries_test.ts evaluates every query on a real Prometheus.
 */

/**
 * Metrics registered only when the proxy uses Docker (container stats): absent from /metrics here,
 * so their panels say what they show instead of "No data".
 */
const DOCKER_ONLY = new Set(["lb_backend_cpu_ratio", "lb_backend_memory_ratio"]);

/** Metric family and sample names the proxy registers (HELP/TYPE lines, samples or not). */
function registeredNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^# (?:HELP|TYPE) (\S+)/.exec(line);
    if (m) names.add(m[1]);
    // A histogram family exposes its _bucket, _sum and _count series even before samples exist.
    const h = /^# TYPE (\S+) histogram$/.exec(line);
    if (h) { for (const suffix of ["_bucket", "_sum", "_count"]) names.add(h[1] + suffix); }
  }
  return names;
}

const metricsText = async (lb: TestLb) => await (await fetch(`${lb.adminUrl}/metrics`)).text();

Deno.test("grafana dashboards are fresh from grafana/build and lint clean", async () => {
  const dashboards = await readDashboards();
  const rendered = renderDashboards();
  assert.deepEqual(dashboards.map((d) => d.file), [...rendered.keys()].sort());
  for (const d of dashboards) {
    const text = await Deno.readTextFile(new URL(`../../grafana/dashboards/${d.file}`, import.meta.url));
    assert.equal(text, rendered.get(d.file), `${d.file} is stale: run deno task dashboards`);
  }

  // The SDK build is the one for the Grafana that compose provisions: its schema is what that
  // Grafana reads without migrating.
  const compose = await Deno.readTextFile(new URL("../../compose.yml", import.meta.url));
  const grafana = /image: grafana\/grafana:(\S+)/.exec(compose)![1];
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const sdk = denoJson.imports["@grafana/grafana-foundation-sdk"] as string;
  assert.ok(sdk.includes(`@${grafana}-`), `${sdk} is built for grafana ${grafana}`);

  const uid = await provisionedDatasourceUid();
  const name = await provisionedDatasourceName();
  const be = startBackend();
  const lb = await startLb([be.url]);
  const registered = registeredNames(await metricsText(lb));
  await lb.shutdown();
  await be.close();

  assert.equal(
    new Set(dashboards.map((d) => d.json.uid)).size,
    dashboards.length,
    "dashboard uids are unique",
  );
  for (const d of dashboards) {
    const { json, file } = d;
    assert.equal(json.schemaVersion, 41, `${file}: Grafana 11.6's schema`);
    const panels = allPanels(json);
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
    // Every datasource reference resolves to the provisioned one (the built-in annotation excepted).
    const queried = panels.filter((p) => p.type !== "row" && p.type !== "alertlist");
    const refs = [
      ...queried.flatMap((
        p,
      ) => [p.datasource, ...(p.targets ?? []).map((t: { datasource: unknown }) => t.datasource)]),
      ...json.templating.list.map((v: { datasource: unknown }) => v.datasource),
      ...json.annotations.list.filter((a: { builtIn?: number }) => !a.builtIn).map((
        a: { datasource: unknown },
      ) => a.datasource),
    ];
    for (const ref of refs) {
      assert.deepEqual(ref, { type: "prometheus", uid }, `${file}: datasource ${JSON.stringify(ref)}`);
    }
    // The alert list reads the provisioned datasource's alerts, which it names by name.
    for (const p of panels.filter((p) => p.type === "alertlist")) {
      assert.equal(p.options.datasource, name, `${file}: ${p.title} lists the alerts of ${name}`);
    }
    // Both dashboards filter by service, and the backends by the selected services.
    const vars = Object.fromEntries(
      json.templating.list.map((v: { name: string; query: { query: string } }) => [v.name, v]),
    );
    assert.deepEqual(Object.keys(vars), ["service", "backend", "strategy"], file);
    for (const v of Object.values(vars) as { multi: boolean; includeAll: boolean; allValue: string }[]) {
      assert.ok(v.multi && v.includeAll && v.allValue === ".+", `${file}: multi-select with All`);
    }
    assert.match(vars.backend.query.query, /service=~"\$service"/, file);
    // Panels do not overlap on the grid (repeated panels sit on rows of their own).
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(x >= 0 && x + w <= 24, `${file}: ${p.title} fits in 24 columns`);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          assert.ok(!cells.has(`${i},${j}`), `${file}: ${p.title} overlaps another panel`);
          cells.add(`${i},${j}`);
        }
      }
      if (p.type !== "row") {
        assert.ok(p.title && p.description, `${file}: panel ${p.id} has a title and description`);
      }
    }
    for (const q of queriesOf(d)) {
      for (const metric of metricNames(q.expr)) {
        assert.ok(
          registered.has(metric) || DOCKER_ONLY.has(metric),
          `${file}: ${q.where}: ${metric} is not in /metrics`,
        );
      }
      // Per-service series: every panel query and variable (but the first) filters by service.
      if (
        q.where !== "variable: service" &&
        /\blb_(requests|request_duration|active|backend|open|service|retr|ejections|health|upstream)/.test(
          q.expr,
        )
      ) {
        assert.match(q.expr, /service=~"\$service"/, `${file}: ${q.where} filters by $service`);
      }
      // Windows follow the scrape interval and the time picker, never a hard-coded duration.
      for (const [, window] of q.expr.matchAll(/(?<=[}\w])\[([^\]]+)\]/g)) {
        assert.ok(
          ["$__rate_interval", "$__range"].includes(window),
          `${file}: ${q.where}: window [${window}]`,
        );
      }
    }
  }
});
