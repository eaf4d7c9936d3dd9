import assert from "node:assert/strict";
import { renderDashboards } from "../../grafana/build/main.ts";
import { STRATEGY_SWITCHES } from "../../grafana/build/queries.ts";
import {
  allPanels,
  interpolate,
  metricNames,
  provisionedDatasourceUid,
  queriesOf,
  readDashboards,
} from "../_util/grafana.ts";
import { startBackend, startLb, type TestLb } from "../_util/harness.ts";
import { sleep, steadyLoad } from "../_util/load.ts";
import { type Series, startPrometheus } from "../_util/prometheus.ts";
import { gatedTest, needs } from "../_util/tools.ts";

/**
 * Metrics the dashboards show that other parts of the proxy export. A query reading one of them
 * is skipped only while the name is absent from /metrics; once the proxy exports it, the query
 * is checked like every other.
 */
const PENDING_METRICS = new Set([
  "lb_retries_total",
  "lb_retry_budget_exhausted_total",
  "lb_ejections_total",
  "lb_config_reloads_total",
  "lb_backend_cpu_ratio",
  "lb_backend_memory_ratio",
]);

/** Metric family and sample names the proxy exposes. */
async function exposedNames(lb: TestLb): Promise<Set<string>> {
  const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^# (?:HELP|TYPE) (\S+)/.exec(line) ?? /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (m) names.add(m[1]);
    // A histogram family exposes its _bucket, _sum and _count series even before samples exist.
    const h = /^# TYPE (\S+) histogram$/.exec(line);
    if (h) { for (const suffix of ["_bucket", "_sum", "_count"]) names.add(h[1] + suffix); }
  }
  return names;
}

/** Pending metrics a query needs that the proxy does not export yet. */
const missingIn = (exposed: Set<string>, expr: string) =>
  metricNames(expr).filter((n) => PENDING_METRICS.has(n) && !exposed.has(n));

Deno.test("grafana dashboards are fresh from grafana/build and lint clean", async () => {
  const dashboards = await readDashboards();
  const rendered = renderDashboards();
  assert.deepEqual(dashboards.map((d) => d.file), [...rendered.keys()].sort());
  for (const d of dashboards) {
    const text = await Deno.readTextFile(new URL(`../../grafana/dashboards/${d.file}`, import.meta.url));
    assert.equal(text, rendered.get(d.file), `${d.file} is stale: run deno task dashboards`);
  }

  const uid = await provisionedDatasourceUid();
  const be = startBackend();
  const lb = await startLb([be.url]);
  const exposed = await exposedNames(lb);
  await lb.shutdown();
  await be.close();

  assert.equal(
    new Set(dashboards.map((d) => d.json.uid)).size,
    dashboards.length,
    "dashboard uids are unique",
  );
  for (const d of dashboards) {
    const { json, file } = d;
    assert.equal(json.schemaVersion, 39, file);
    const panels = allPanels(json);
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
    // Every datasource reference resolves to the provisioned one (the built-in annotation excepted).
    const refs = [
      ...panels.filter((p) => p.type !== "row").flatMap((
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
      for (const name of metricNames(q.expr)) {
        assert.ok(
          exposed.has(name) || PENDING_METRICS.has(name),
          `${file}: ${q.where}: ${name} is not in /metrics`,
        );
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

gatedTest(
  "every dashboard query returns finite series from a real Prometheus scraping the proxy",
  needs("prometheus", "promtool"),
  async () => {
    const repoConfig = await new Deno.Command("promtool", {
      args: ["check", "config", new URL("../../prometheus.yml", import.meta.url).pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(repoConfig.code, 0, new TextDecoder().decode(repoConfig.stderr));

    // Latency and status codes that differ by backend, so every code class and quantile moves.
    const backends = [
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
    const lb = await startLb(backends.map((b) => b.url));
    const prometheus = await startPrometheus([`127.0.0.1:${lb.adminAddr.port}`]);
    try {
      const { available } = await (await fetch(`${lb.adminUrl}/api/strategy`)).json() as {
        available: string[];
      };
      const [first, second] = [available[0], available[1] ?? available[0]];
      if (first === second) {
        console.log(`only ${first} is registered: the side-by-side view shows one strategy`);
      }
      const loadStart = Date.now() / 1000;
      const path = () => (Math.random() < 0.1 ? "/missing" : "/");
      for (const strategy of [first, second]) {
        const put = await fetch(`${lb.adminUrl}/api/strategy`, {
          method: "PUT",
          body: JSON.stringify({ strategy }),
        });
        assert.equal(put.status, 200);
        await put.body?.cancel();
        const result = await steadyLoad(lb.url, {
          concurrency: 3,
          maxRequests: 5000,
          maxMs: 6000,
          pauseMs: 10,
          path,
        });
        assert.deepEqual(result.failures, []);
      }
      const loadEnd = Date.now() / 1000;
      await sleep(2500); // the last scrape after the load
      const exposed = await exposedNames(lb);

      const values: Record<string, string[]> = {
        backend: await prometheus.labelValues("backend", "lb_requests_total"),
        strategy: await prometheus.labelValues("strategy", "lb_requests_total"),
      };
      assert.deepEqual(values.backend, ["b0", "b1", "b2"]);
      assert.deepEqual(values.strategy, [...new Set([first, second])].sort());
      const range = Math.ceil(loadEnd - loadStart);
      const builtins = { __rate_interval: "4s", __interval: "1s", __range: `${range}s` };

      const problems: string[] = [];
      const skipped: string[] = [];
      let checked = 0;
      for (const d of await readDashboards()) {
        for (const q of queriesOf(d)) {
          if (q.where.startsWith("variable: ")) continue; // evaluated above through the label API
          const missing = missingIn(exposed, q.expr);
          if (missing.length) {
            skipped.push(`${d.file}: ${q.where}: needs metric ${missing.join(", ")}`);
            continue;
          }
          // A repeated panel is evaluated once per value, like the copies Grafana makes.
          const each = q.repeat ? values[q.repeat].map((v) => ({ ...values, [q.repeat!]: [v] })) : [values];
          for (const vars of each) {
            const expr = interpolate(q.expr, vars, builtins);
            let series: Series[];
            try {
              series = q.instant
                ? await prometheus.query(expr, loadEnd)
                : await prometheus.queryRange(expr, loadStart, loadEnd, 1);
            } catch (e) {
              problems.push(`${d.file}: ${q.where}: ${(e as Error).message}`);
              continue;
            }
            checked++;
            const finite = series.filter((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
            if (series.length === 0 || finite.length !== series.length) {
              problems.push(
                `${d.file}: ${q.where}: ${series.length} series, ${finite.length} with finite values: ${expr}`,
              );
            }
            // Side by side: a query grouped by strategy shows every strategy that carried load.
            if (/by \((\w+, )*strategy\b/.test(q.expr) && !q.repeat) {
              const shown = [...new Set(series.map((s) => s.metric.strategy))].sort();
              if (JSON.stringify(shown) !== JSON.stringify(vars.strategy)) {
                problems.push(`${d.file}: ${q.where}: shows strategies ${shown}, expected ${vars.strategy}`);
              }
            }
          }
        }
      }
      for (const s of skipped) console.log(`skipped ${s}`);
      console.log(`evaluated ${checked} dashboard queries in Prometheus`);
      assert.deepEqual(problems, []);
      assert.ok(checked >= 30, `only ${checked} queries evaluated`);

      // The strategy annotation marks the switch (and the start).
      const marks = await prometheus.queryRange(
        STRATEGY_SWITCHES,
        loadStart - 10,
        loadEnd,
        1,
      );
      assert.ok(marks.some((s) => s.metric.strategy === second), `annotation marks ${second}`);
    } finally {
      await prometheus.close();
      await lb.shutdown();
      await Promise.all(backends.map((b) => b.close()));
    }
  },
);
