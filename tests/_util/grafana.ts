/**
 * Read the provisioned Grafana dashboards the way Grafana would: every panel target, annotation
 * and variable query, and Grafana's variable interpolation for evaluating them in Prometheus.
 *
 * @module
 */

import { parse } from "yaml";

/** A query found in a dashboard, with where it came from. */
export interface FoundQuery {
  readonly dashboard: string;
  /** Panel title, `annotation: <name>` or `variable: <name>`. */
  readonly where: string;
  readonly expr: string;
  readonly instant: boolean;
  /** The variable a repeated panel is repeated over. */
  readonly repeat?: string;
  /** What the panel shows when the query returns nothing (Grafana's "No data" when unset). */
  readonly noValue?: string;
}

/** A dashboard file and its parsed JSON. */
export interface DashboardFile {
  readonly file: string;
  // deno-lint-ignore no-explicit-any
  readonly json: any;
}

const ROOT = new URL("../../", import.meta.url);

/** Every `grafana/dashboards/*.json`, sorted by name. */
export async function readDashboards(): Promise<DashboardFile[]> {
  const dir = new URL("grafana/dashboards/", ROOT);
  const out: DashboardFile[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".json")) {
      out.push({ file: e.name, json: JSON.parse(await Deno.readTextFile(new URL(e.name, dir))) });
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** The provisioned Prometheus datasource. */
async function provisionedDatasource(): Promise<{ uid: string; name: string }> {
  const text = await Deno.readTextFile(new URL("grafana/provisioning/datasources/prometheus.yml", ROOT));
  const doc = parse(text) as { datasources: { uid: string; name: string; type: string }[] };
  const prom = doc.datasources.filter((d) => d.type === "prometheus");
  if (prom.length !== 1) throw new Error(`expected one prometheus datasource, found ${prom.length}`);
  return prom[0];
}

/** The uid of the provisioned Prometheus datasource (what panels and queries reference). */
export async function provisionedDatasourceUid(): Promise<string> {
  return (await provisionedDatasource()).uid;
}

/** The name of the provisioned Prometheus datasource (what the alert list panel filters by). */
export async function provisionedDatasourceName(): Promise<string> {
  return (await provisionedDatasource()).name;
}

/** Panels at any depth (collapsed rows nest theirs). */
// deno-lint-ignore no-explicit-any
export function allPanels(json: any): any[] {
  // deno-lint-ignore no-explicit-any
  return (json.panels ?? []).flatMap((p: any) => [p, ...allPanels(p)]);
}

/** Every query of a dashboard: panel targets, Prometheus annotations, query variables. */
export function queriesOf(d: DashboardFile): FoundQuery[] {
  const out: FoundQuery[] = [];
  for (const p of allPanels(d.json)) {
    for (const t of p.targets ?? []) {
      if (t.expr) {
        out.push({
          dashboard: d.file,
          where: p.title,
          expr: t.expr,
          instant: !!t.instant,
          repeat: p.repeat,
          noValue: p.fieldConfig?.defaults?.noValue,
        });
      }
    }
  }
  for (const a of d.json.annotations?.list ?? []) {
    if (a.expr) out.push({ dashboard: d.file, where: `annotation: ${a.name}`, expr: a.expr, instant: false });
  }
  for (const v of d.json.templating?.list ?? []) {
    if (v.type === "query") {
      const expr = typeof v.query === "string" ? v.query : v.query.query;
      out.push({ dashboard: d.file, where: `variable: ${v.name}`, expr, instant: true });
    }
  }
  return out;
}

/**
 * The series selector and label of a `label_values(selector, label)` variable query, as Grafana's
 * Prometheus datasource asks the label values API for them.
 */
export function labelValuesQuery(expr: string): { match: string; label: string } {
  const m = /^label_values\((.+), (\w+)\)$/.exec(expr);
  if (!m) throw new Error(`not a label_values(selector, label) query: ${expr}`);
  return { match: m[1], label: m[2] };
}

/** Metric names (`lb_*`) a query reads. */
export function metricNames(expr: string): string[] {
  return [...new Set(expr.match(/\blb_[a-z0-9_]+/g) ?? [])];
}

/**
 * Interpolate like Grafana: a multi-value variable inside a regex matcher becomes `(a|b)`,
 * built-in intervals become durations.
 */
export function interpolate(
  expr: string,
  values: Record<string, string[]>,
  builtins: Record<string, string>,
): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    if (name in builtins) return builtins[name];
    const v = values[name];
    if (!v) return whole;
    return v.length === 1 ? v[0] : `(${v.join("|")})`;
  });
}

/** Metric names with at least one sample in a /metrics text (a labelled counter never incremented has none). */
export function sampledNames(metricsText: string): Set<string> {
  return new Set(
    metricsText.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => /^[\w:]+/.exec(l)![0]),
  );
}

/**
 * Why an empty result of `q` is what its panel is meant to show, or undefined when empty is a
 * failure: the panel has a `noValue` text ("none") and a metric the query reads has no sample.
 */
export function emptyByDesign(q: FoundQuery, sampled: Set<string>): string | undefined {
  const unsampled = metricNames(q.expr).filter((m) => !sampled.has(m));
  if (q.noValue === undefined || !unsampled.length) return undefined;
  return `${q.dashboard}: ${q.where} shows "${q.noValue}" (no samples of ${unsampled.join(", ")})`;
}

/**
 * A firing-alert query in state `pending`. No alert fires within a test (each rule waits out its
 * `for`), so a query of `ALERTS{alertstate="firing"}` is checked on the same series in the state
 * before; undefined for any other query.
 */
export function asPending(expr: string): string | undefined {
  return expr.includes('alertstate="firing"')
    ? expr.replaceAll('alertstate="firing"', 'alertstate="pending"')
    : undefined;
}
