import assert from "node:assert/strict";
import { renderDashboards } from "../../grafana/build/main.ts";
import { STRATEGY_SWITCHES } from "../../grafana/build/queries.ts";
import {
  allPanels,
  interpolate,
  metricNames,
  provisionedDatasourceName,
  provisionedDatasourceUid,
  queriesOf,
  readDashboards,
  sampledNames,
} from "../_util/grafana.ts";
import { loadConfig } from "../../lib/config/mod.ts";
import { VERSION } from "../../lib/base/mod.ts";
import { repoPath, RULES } from "../_util/alert_rules.ts";
import { evaluateQueries } from "../_util/dashboard_eval.ts";
import { startBackend, startLb, type TestLb, waitFor } from "../_util/harness.ts";
import { sleep } from "../_util/load.ts";
import { type Series, startPrometheus } from "../_util/prometheus.ts";
import { gatedTest, needs } from "../_util/tools.ts";

/**
 * The provisioned dashboards: static checks (generated == committed, the SDK build matches the
 * provisioned Grafana, datasource references, variables, grid, every metric read is one the proxy
 * registers), then each panel driven by the event it shows on a real Prometheus scraping a
 * one-service proxy. dashboard_queries_test.ts evaluates every query on a two-service proxy.
 */

/**
 * Metrics only a proxy that uses Docker exports: the container stats of its container backends,
 * and its Docker Engine link's. The panels that read them say "none: no container stats" and
 * "none: no Docker" here; "Backend CPU and memory" is evaluated against the Docker-backed proxy of
 * the compose stack in scripts/e2e-compose.sh (the Docker job).
 */
const DOCKER_ONLY = new Set([
  "lb_backend_cpu_ratio",
  "lb_backend_memory_ratio",
  "lb_docker_up",
  "lb_docker_errors_total",
]);

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

  // The SDK build is the one for the Grafana that compose and the Swarm stack provision: its
  // schema is what that Grafana reads without migrating.
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const sdk = denoJson.imports["@grafana/grafana-foundation-sdk"] as string;
  for (const file of ["compose.yml", "docker/stack.yml"]) {
    const text = await Deno.readTextFile(new URL(`../../${file}`, import.meta.url));
    const grafana = /image: grafana\/grafana:(\S+)/.exec(text)?.[1];
    assert.ok(grafana && sdk.includes(`@${grafana}-`), `${file}: grafana ${grafana}, SDK ${sdk}`);
  }

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

/** The strategies of the two load periods: the side-by-side dashboard shows one column each. */
const FIRST = "round_robin";
const SECOND = "weighted_round_robin";
/** What `$__rate_interval` is for a 1 s scrape: four scrapes. */
const RATE_WINDOW_S = 4;
/**
 * Length of each load period: long enough for a few rate windows that lie wholly inside it, one
 * scrape of slack on each side (PERIOD_MS / 1000 >= RATE_WINDOW_S + 2 + the steps checked).
 */
const PERIOD_MS = 8_000;
/** Upper bounds of the duration histogram's buckets, in seconds (README, metrics reference). */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One answered request of the test's load, as its client saw it. */
interface Answer {
  /** Unix seconds at which the response ended. */
  readonly at: number;
  readonly status: number;
  readonly ms: number;
}

/** A driven event: when it started, and the panel values before it and once it showed. */
interface EventRow {
  readonly panel: string;
  readonly event: string;
  before: number;
  after: number;
}

/** Value of `s` at unix second `t`, NaN when the series has no point there. */
const at = (s: Series, t: number) => Number(s.values.find(([ts]) => ts === t)?.[1] ?? NaN);
/** Largest finite value of `series` at times in [from, to]; 0 when there is none (no data reads as 0). */
function maxIn(series: Series[], from: number, to: number): number {
  let max = 0;
  for (const s of series) {
    for (const [t, v] of s.values) {
      if (t >= from && t <= to && Number.isFinite(Number(v))) max = Math.max(max, Number(v));
    }
  }
  return max;
}
/** The smallest bucket bound at or above `seconds` (the most a histogram quantile can read). */
const bucketAbove = (seconds: number) => BUCKETS.find((b) => b >= seconds) ?? Infinity;
/** Whole unix seconds in [from, to]: the steps of a range query with step 1. */
const steps = (from: number, to: number) =>
  Array.from({ length: Math.max(0, Math.floor(to) - Math.ceil(from) + 1) }, (_, i) => Math.ceil(from) + i);

/** Proxy config for the panel test: every event it drives is one the config makes deterministic. */
const PANEL_CONFIG = [
  // A 2 s timeout, far above any request's time on a busy machine, so only /stall times out.
  "health_check: {interval: 100ms, timeout: 2s, healthy_threshold: 1, unhealthy_threshold: 1}",
  "timeouts: {request: 2s}",
  // Retries of the flaky 503s always fit this budget; a burst of /overload requests does not.
  "retries: {budget: 0.1, min_per_second: 2}",
  // Only 500 ejects (503s are retried and left to the budget), and only eight in a row.
  "passive: {consecutive_failures: 8, base_ejection: 5m, on: [500]}",
  "slow_start: 0s",
].join("\n");

gatedTest(
  "every dashboard panel moves with the event it shows and reads what the load implies, in a real Prometheus",
  needs("prometheus", "promtool"),
  async () => {
    const repoConfig = await new Deno.Command("promtool", {
      args: ["check", "config", new URL("../../prometheus.yml", import.meta.url).pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(repoConfig.code, 0, new TextDecoder().decode(repoConfig.stderr));

    // b0 fast, b1 slow (never under 10 ms), b2 flaky (15% 503s, retried). Every backend answers
    // /fail 500 (not retried), /overload 503 (retried until the budget runs out), /missing 404,
    // and holds /stall past timeouts.request; `failing` makes one answer 500 to everything.
    const latencyMs = [() => 1, () => 10 + Math.random() * 20, () => Math.random() * 5];
    const failing = [false, false, false];
    const backends = [0, 1, 2].map((i) =>
      startBackend(async (req) => {
        await sleep(latencyMs[i]());
        const path = new URL(req.url).pathname;
        if (path === "/stall") {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5_000);
            req.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()));
          });
          return new Response("late");
        }
        if (path === "/fail" || failing[i]) return new Response("fail", { status: 500 });
        if (path === "/overload") return new Response("busy", { status: 503 });
        if (path === "/missing") return new Response("missing", { status: 404 });
        if (i === 2 && Math.random() < 0.15) return new Response("flaky", { status: 503 });
        return new Response(`b${i}`);
      })
    );
    const dir = await Deno.makeTempDir({ prefix: "lb-dashboards-" });
    const configPath = `${dir}/lb.yml`;
    const lb = await startLb(backends.map((b) => b.url), PANEL_CONFIG, {
      configSource: () => loadConfig(configPath, () => undefined),
    });
    const validFile =
      `listen: "127.0.0.1:${lb.proxyAddr.port}"\nadmin: {listen: "127.0.0.1:${lb.adminAddr.port}"}\n` +
      `${PANEL_CONFIG}\nbackends:\n${
        backends.map((b, i) => `  - {name: b${i}, url: "${b.url}"}`).join("\n")
      }\n`;
    await Deno.writeTextFile(configPath, validFile);
    // The alert rules too: the alert panels read ALERTS (the bad reload below makes one pending).
    const prometheus = await startPrometheus([`127.0.0.1:${lb.adminAddr.port}`], {
      ruleFiles: [repoPath(RULES)],
    });
    const answers: Answer[] = [];
    const failures: string[] = [];
    /** Send `path`, record the answer. */
    const request = async (path: string) => {
      const t0 = performance.now();
      try {
        const r = await fetch(lb.url + path);
        await r.arrayBuffer();
        answers.push({ at: Date.now() / 1000, status: r.status, ms: performance.now() - t0 });
      } catch (e) {
        failures.push(`${path}: ${(e as Error).message}`);
      }
    };
    let stopLoad = false;
    const loadGuard = setTimeout(() => stopLoad = true, 90_000);
    try {
      const { available } = await (await fetch(`${lb.adminUrl}/api/strategy`)).json() as {
        available: string[];
      };
      assert.ok(available.includes(FIRST) && available.includes(SECOND), `${available}`);
      const switchTo = async (strategy: string) => {
        const put = await fetch(`${lb.adminUrl}/api/strategy`, {
          method: "PUT",
          body: JSON.stringify({ strategy }),
        });
        assert.equal(put.status, 200);
        await put.body?.cancel();
      };
      const values: Record<string, string[]> = {
        service: ["default"],
        backend: ["b0", "b1", "b2"],
        strategy: [FIRST, SECOND],
      };
      const builtins = { __rate_interval: `${RATE_WINDOW_S}s`, __interval: "1s", __range: "1s" };
      const dashboards = await readDashboards();
      /** A panel's `index`-th query (of every dashboard), interpolated for Prometheus. */
      const panel = (title: string, index = 0, vars = values, range = "1s") => {
        const q = dashboards.flatMap(queriesOf).filter((q) => q.where === title)[index];
        assert.ok(q, `no query ${index} in a panel titled ${title}`);
        return interpolate(q.expr, vars, { ...builtins, __range: range });
      };
      /** Wait until the panel's query, evaluated now, satisfies `ok`; returns its series. */
      const untilPanel = async (title: string, index: number, ok: (s: Series[]) => boolean, what: string) => {
        const deadline = performance.now() + 20_000;
        while (true) {
          const series = await prometheus.query(panel(title, index), Date.now() / 1000);
          if (ok(series)) return series;
          if (performance.now() > deadline) {
            throw new Error(`${title}: ${what} not within 20 s; last: ${JSON.stringify(series)}`);
          }
          await sleep(250);
        }
      };
      const value = (s: Series[], label?: [string, string]) =>
        s.filter((x) => !label || x.metric[label[0]] === label[1]).reduce(
          (n, x) => n + Number(x.values[0][1]),
          0,
        );

      // The load: three clients, every 20th request a 404, every 10th a 500 while `withFailures`.
      let sent = 0;
      let withFailures = false;
      const client = async () => {
        while (!stopLoad && sent < 40_000) {
          const i = sent++;
          await request(i % 20 === 19 ? "/missing" : withFailures && i % 10 === 4 ? "/fail" : "/");
          await sleep(5);
        }
      };
      const events: { name: string; at: number }[] = [];
      const mark = (name: string) => events.push({ name, at: Date.now() / 1000 });

      // Period 1: the first strategy, successes, 404s and retried 503s only.
      await switchTo(FIRST);
      const loadStart = Date.now() / 1000;
      const clients = Promise.all([client(), client(), client()]);
      await sleep(PERIOD_MS);
      // Period 2: the second strategy, and every tenth request an unretried 500.
      await switchTo(SECOND);
      const secondStart = Date.now() / 1000;
      withFailures = true;
      await sleep(PERIOD_MS);
      withFailures = false;
      const secondEnd = Date.now() / 1000;

      // Period 3, events one at a time, each until its panel shows it.
      mark("failed health check");
      backends[1].healthy = false;
      await waitFor(() => lb.pool.get("b1")!.state === "unhealthy", 10_000, "b1 unhealthy");
      await untilPanel("Backends up", 0, (s) => value(s) === 2, "two backends up");
      await untilPanel("Backends by state", 0, (s) => value(s, ["state", "unhealthy"]) === 1, "b1 unhealthy");
      await untilPanel("Health check failures", 0, (s) => value(s, ["backend", "b1"]) > 0, "b1's failures");
      backends[1].healthy = true;
      await waitFor(() => lb.pool.get("b1")!.state === "healthy", 10_000, "b1 healthy again");

      mark("ejection");
      failing[2] = true;
      await waitFor(() => lb.pool.get("b2")!.state === "ejected", 10_000, "b2 ejected");
      failing[2] = false;
      await untilPanel("Ejections", 0, (s) => value(s, ["backend", "b2"]) > 0, "b2's ejection");
      await untilPanel("Backend health", 0, (s) => value(s, ["backend", "b2"]) === 0, "b2 down");
      await untilPanel("Backends by state", 0, (s) => value(s, ["state", "ejected"]) === 1, "b2 ejected");
      const enabled = await fetch(`${lb.adminUrl}/api/backends/b2/enable`, { method: "POST" });
      assert.equal(enabled.status, 200);
      await enabled.body?.cancel();

      mark("reload");
      const reload = async () => {
        const r = await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" });
        await r.body?.cancel();
        return r.status;
      };
      assert.equal(await reload(), 200);
      await Deno.writeTextFile(configPath, "backends: []\n");
      assert.equal(await reload(), 422);
      await untilPanel("Last config reload", 0, (s) => value(s) === 0, "the failed reload");
      await Deno.writeTextFile(configPath, validFile);
      await untilPanel(
        "Config reloads",
        0,
        (s) => value(s, ["result", "success"]) > 0,
        "a successful reload",
      );
      await untilPanel("Config reloads", 0, (s) => value(s, ["result", "failure"]) > 0, "a failed reload");

      mark("upstream error");
      await Promise.all([request("/stall"), request("/stall"), request("/stall")]);
      await untilPanel("Upstream errors by kind", 0, (s) => value(s, ["kind", "timeout"]) > 0, "timeouts");

      mark("retry budget exhausted");
      let burst = 0;
      await Promise.all(Array.from({ length: 10 }, async () => {
        while (burst++ < 300) await request("/overload");
      }));
      await untilPanel("Retries", 1, (s) => value(s) > 0, "retries refused by the budget");

      stopLoad = true;
      await clients;
      const loadEnd = Date.now() / 1000;
      // The answer to the last request is in a scrape taken after it.
      const scraped = async () =>
        Number(
          (await prometheus.query("max(timestamp(lb_build_info))", Date.now() / 1000))[0]?.values[0][1] ?? 0,
        );
      await waitFor(async () => await scraped() > loadEnd + 0.5, 10_000, "a scrape after the load");
      const queryEnd = Math.ceil(await scraped());
      const queryStart = Math.floor(loadStart) - 10;
      assert.deepEqual(failures, [], "every request of the test got an answer");
      assert.deepEqual(await prometheus.labelValues("backend", "lb_requests_total"), ["b0", "b1", "b2"]);
      assert.deepEqual(await prometheus.labelValues("strategy", "lb_requests_total"), [FIRST, SECOND]);

      // Every query: finite series, and grouped by strategy, one per strategy that carried load.
      const sampled = sampledNames(await (await fetch(`${lb.adminUrl}/metrics`)).text());
      const { checked, problems, empty } = await evaluateQueries(
        prometheus,
        dashboards,
        values,
        {
          start: queryStart,
          end: queryEnd,
          builtins: { ...builtins, __range: `${queryEnd - queryStart}s` },
        },
        sampled,
        (q) => metricNames(q.expr).some((n) => DOCKER_ONLY.has(n)),
      ); // scripts/e2e-compose.sh
      for (const e of empty) console.log(`empty by design: ${e}`);
      console.log(`evaluated ${checked} dashboard queries in Prometheus`);
      assert.deepEqual(problems, []);
      assert.ok(checked >= 30, `only ${checked} queries evaluated`);

      const range = (title: string, index = 0, vars = values) =>
        prometheus.queryRange(panel(title, index, vars), queryStart, queryEnd, 1);
      // Rate windows wholly inside a period, with a scrape of slack each side.
      const firstWindows = steps(loadStart + RATE_WINDOW_S + 1, secondStart - 1);
      const secondWindows = steps(secondStart + RATE_WINDOW_S + 1, secondEnd - 1);
      assert.ok(firstWindows.length >= 2 && secondWindows.length >= 2, `${firstWindows} ${secondWindows}`);
      const wrong: string[] = [];
      const expect = (ok: boolean, what: string) => void (ok || wrong.push(what));

      // Events: nothing before, something once it happened.
      const rows: EventRow[] = [];
      const moved = async (title: string, index: number, event: string, label?: [string, string]) => {
        const start = event === "load" ? loadStart : events.find((e) => e.name === event)!.at;
        const series = (await range(title, index)).filter((s) => !label || s.metric[label[0]] === label[1]);
        const row = { panel: label ? `${title} {${label.join("=")}}` : title, event, before: 0, after: 0 };
        row.before = maxIn(series, queryStart, Math.floor(start) - 1);
        row.after = maxIn(series, Math.ceil(start), queryEnd);
        rows.push(row);
        expect(
          row.before === 0 && row.after > 0,
          `${row.panel}: ${row.before} before ${event}, ${row.after} after`,
        );
      };
      await moved("Health check failures", 0, "failed health check", ["backend", "b1"]);
      await moved("Ejections", 0, "ejection", ["backend", "b2"]);
      await moved("Config reloads", 0, "reload", ["result", "success"]);
      await moved("Config reloads", 0, "reload", ["result", "failure"]);
      await moved("Upstream errors by kind", 0, "upstream error", ["kind", "timeout"]);
      await moved("Retries", 1, "retry budget exhausted");
      await moved("Retries", 0, "load", ["reason", "503"]);
      await moved("In flight per backend", 0, "load");
      for (const title of ["5xx ratio", "5xx ratio per backend", "Responses by code class"]) {
        const series = (await range(title)).filter((s) =>
          title !== "Responses by code class" || s.metric.class === "5xx"
        );
        rows.push({
          panel: title,
          event: "unretried 500s (period 2)",
          before: maxIn(series, loadStart, secondStart - 1),
          after: maxIn(series, secondStart, secondEnd),
        });
      }
      {
        const series = await range("5xx ratio by strategy");
        rows.push({
          panel: "5xx ratio by strategy",
          event: "unretried 500s (period 2)",
          before: maxIn(series.filter((s) => s.metric.strategy === FIRST), loadStart, queryEnd),
          after: maxIn(series.filter((s) => s.metric.strategy === SECOND), secondStart, secondEnd),
        });
      }

      // 5xx ratios: exactly 0 while clients saw no 5xx, about a tenth while every tenth request failed.
      const answered = (from: number, to: number) => answers.filter((a) => a.at > from && a.at <= to);
      const errors = (xs: Answer[]) => xs.filter((a) => a.status >= 500).length;
      for (const title of ["5xx ratio", "5xx ratio per backend", "5xx ratio by strategy"]) {
        const series = await range(title);
        // A panel with traffic and no errors reads 0, never "no data".
        for (const t of firstWindows) {
          expect(series.some((s) => !Number.isNaN(at(s, t))), `${title} has no value at ${t}, with traffic`);
        }
        for (const s of series) {
          for (const t of steps(loadStart + RATE_WINDOW_S, queryEnd)) {
            const v = at(s, t);
            if (Number.isNaN(v)) continue;
            // One scrape of slack each side: Prometheus saw the counters up to a second off.
            const around = answered(t - RATE_WINDOW_S - 1, t + 1);
            if (errors(around) === 0) {
              expect(v === 0, `${title} ${JSON.stringify(s.metric)} at ${t}: ${v}, clients saw no 5xx`);
            }
            if (secondWindows.includes(t)) {
              expect(
                Math.abs(v - 0.1) <= 0.06,
                `${title} ${JSON.stringify(s.metric)} at ${t}: ${v}, every tenth failed`,
              );
            }
          }
        }
      }
      // Over the whole range, per strategy: the share of 5xx answers the clients got. A series is
      // born with its first answer, and increase() counts from the first scrape that saw it, so up
      // to a scrape's worth of each status's first answers goes uncounted: the ratio reads between
      // the share of 5xx answers that came 2 s after the first of their status, and the whole share.
      const summary = (index: number) =>
        prometheus.query(
          panel("Summary over the selected time range", index, values, `${queryEnd - queryStart}s`),
          queryEnd,
        );
      const perStrategy = (s: Series[]) => new Map(s.map((x) => [x.metric.strategy, Number(x.values[0][1])]));
      const ratioByStrategy = perStrategy(await summary(4));
      const countByStrategy = perStrategy(await summary(0));
      const periods = [[FIRST, answered(loadStart - 1, secondStart)], [
        SECOND,
        answered(secondStart, loadEnd + 1),
      ]] as const;
      for (const [strategy, xs] of periods) {
        const failed = xs.filter((a) => a.status >= 500);
        const born = (status: number) => failed.find((a) => a.status === status)!.at;
        const low = failed.filter((a) => a.at >= born(a.status) + 2).length / xs.length;
        const high = failed.length / xs.length;
        const got = ratioByStrategy.get(strategy)!;
        expect(
          high === 0 ? got === 0 : got >= low - 0.01 && got <= high + 0.01,
          `summary 5xx ratio of ${strategy}: ${got}, clients saw ${low} to ${high}`,
        );
        const count = countByStrategy.get(strategy)!;
        expect(
          Math.abs(count - xs.length) <= 0.15 * xs.length,
          `summary requests of ${strategy}: ${count}, clients got ${xs.length}`,
        );
      }

      // Shares sum to 1 wherever there was traffic.
      const shares = [
        await range("Share of traffic per backend"),
        ...await Promise.all(
          [FIRST, SECOND].map((v) => range("Share per backend: $strategy", 0, { ...values, strategy: [v] })),
        ),
      ];
      for (const series of shares) {
        for (const t of steps(queryStart, queryEnd)) {
          const parts = series.map((s) => at(s, t)).filter((v) => !Number.isNaN(v));
          if (parts.length) {
            expect(Math.abs(parts.reduce((a, b) => a + b) - 1) < 1e-9, `shares at ${t} sum to ${parts}`);
          }
        }
      }

      // Latency: b1 never answers under 10 ms; no quantile above the bucket of the slowest answer.
      const ceiling = bucketAbove(Math.max(...answers.map((a) => a.ms)) / 1000);
      for (
        const [title, index] of [
          ["p99 latency", 0],
          ["Latency per backend (p50, p95, p99)", 0],
          ["Latency per backend (p50, p95, p99)", 2],
          ["Mean latency per backend", 0],
          ["p95 and p99 latency by strategy", 1],
        ] as const
      ) {
        for (const s of await range(title, index)) {
          for (const [t, raw] of s.values) {
            const v = Number(raw);
            if (!Number.isFinite(v)) continue;
            expect(v <= ceiling, `${title} ${JSON.stringify(s.metric)} at ${t}: ${v} above ${ceiling}`);
            if (s.metric.backend === "b1") expect(v >= 0.01, `${title} b1 at ${t}: ${v}, under its 10 ms`);
          }
        }
      }
      // Round robin sends b1 a third of the requests, so a p99 over period 1 is one of b1's.
      const p99 = await range("p99 latency");
      for (const t of firstWindows) {
        const v = at(p99[0], t);
        if (!Number.isNaN(v)) expect(v >= 0.01 && v <= ceiling, `p99 latency at ${t}: ${v}`);
      }

      // Gauges and info metrics at the end: every backend back, nothing in flight, one strategy.
      const final = async (title: string) => await prometheus.query(panel(title), queryEnd);
      expect(value(await final("Backends up")) === 3, "Backends up at the end");
      expect(value(await final("In flight per backend")) === 0, "nothing in flight at the end");
      const states = await final("Backends by state");
      expect(
        value(states, ["state", "healthy"]) === 3 && value(states) === 3,
        `Backends by state at the end: ${JSON.stringify(states)}`,
      );
      expect(value(await final("Last config reload")) === 0, "the last reload (the bad file) failed");
      expect(value(await final("Queued requests")) === 0, "nothing queued (no max_connections)");
      const strategy = await final("Strategy");
      expect(
        strategy.length === 1 && strategy[0].metric.strategy === SECOND,
        `Strategy: ${JSON.stringify(strategy)}`,
      );
      const version = await final("Version");
      expect(
        version.length === 1 && version[0].metric.version === VERSION && value(version) === 1,
        `Version: ${JSON.stringify(version)}`,
      );
      const timeline = await range("Strategy over time");
      const current = (t: number) => timeline.filter((s) => at(s, t) === 1).map((s) => s.metric.strategy);
      expect(
        JSON.stringify(current(Math.floor(secondStart) - 1)) === JSON.stringify([FIRST]),
        `strategy before the switch: ${current(Math.floor(secondStart) - 1)}`,
      );
      expect(
        JSON.stringify(current(queryEnd)) === JSON.stringify([SECOND]),
        `strategy at the end: ${current(queryEnd)}`,
      );

      console.log(
        `panel values (max before the event, max after):\n  ${
          rows.map((r) => `${r.panel} | ${r.event} | ${+r.before.toFixed(4)} | ${+r.after.toFixed(4)}`).join(
            "\n  ",
          )
        }`,
      );
      assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} panel values off`);

      // The strategy annotation marks the switch (and the start).
      const marks = await prometheus.queryRange(STRATEGY_SWITCHES, queryStart, queryEnd, 1);
      assert.ok(marks.some((s) => s.metric.strategy === SECOND), `annotation marks ${SECOND}`);
    } finally {
      stopLoad = true;
      clearTimeout(loadGuard);
      await prometheus.close();
      await lb.shutdown();
      await Promise.all(backends.map((b) => b.close()));
      await Deno.remove(dir, { recursive: true });
    }
  },
);
