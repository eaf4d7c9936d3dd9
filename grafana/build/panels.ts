/**
 * Small constructors for Grafana dashboard JSON (schemaVersion 39), so the dashboards are written
 * as a list of panels with their queries and the ids, grid positions and datasource references
 * come out consistent by construction.
 *
 * @module
 */

/** The provisioned Prometheus datasource (see grafana/provisioning/datasources/prometheus.yml). */
export const DATASOURCE = { type: "prometheus", uid: "lb-prometheus" } as const;

/** One PromQL query of a panel. */
export interface Query {
  expr: string;
  legend?: string;
  /** Evaluate once at the end of the range (stat and table panels). */
  instant?: boolean;
  /** `heatmap` turns cumulative buckets into per-bucket counts; `table` keeps labels as columns. */
  format?: "time_series" | "heatmap" | "table";
}

/** A panel before layout: everything but id and position. */
export interface PanelSpec {
  type: string;
  title: string;
  description: string;
  queries: Query[];
  /** Width in grid columns (of 24) and height in rows. */
  w: number;
  h: number;
  fieldConfig?: Record<string, unknown>;
  options?: Record<string, unknown>;
  /** Repeat the panel for every value of this variable, side by side. */
  repeat?: string;
  transformations?: Record<string, unknown>[];
}

/** Field defaults shared by time series panels. */
function fields(unit: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { defaults: { unit, ...extra }, overrides: [] };
}

/** A line chart. `stack: "percent"` stacks to 100%. */
export function timeseries(
  title: string,
  description: string,
  queries: Query[],
  opts: { unit: string; w?: number; h?: number; stack?: "normal" | "percent"; min?: number; max?: number } = {
    unit: "short",
  },
): PanelSpec {
  const custom = {
    drawStyle: "line",
    lineWidth: 1,
    fillOpacity: opts.stack ? 60 : 10,
    showPoints: "never",
    spanNulls: false,
    stacking: { mode: opts.stack ?? "none", group: "A" },
  };
  return {
    type: "timeseries",
    title,
    description,
    queries,
    w: opts.w ?? 12,
    h: opts.h ?? 8,
    fieldConfig: fields(opts.unit, { custom, min: opts.min, max: opts.max }),
    options: {
      legend: { displayMode: "table", placement: "right", calcs: ["mean", "lastNotNull"], showLegend: true },
      tooltip: { mode: "multi", sort: "desc" },
    },
  };
}

/** A single big number (or the series name, for info metrics). */
export function stat(
  title: string,
  description: string,
  query: Query,
  opts: { unit?: string; w?: number; text?: "value" | "name"; thresholds?: [number, string][] } = {},
): PanelSpec {
  const steps = [
    { color: "green", value: null },
    ...(opts.thresholds ?? []).map(([value, color]) => ({ value, color })),
  ];
  return {
    type: "stat",
    title,
    description,
    queries: [query],
    w: opts.w ?? 4,
    h: 4,
    fieldConfig: fields(opts.unit ?? "short", { thresholds: { mode: "absolute", steps } }),
    options: {
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
      textMode: opts.text ?? "value",
      colorMode: "value",
      graphMode: opts.text === "name" ? "none" : "area",
    },
  };
}

/** A 0/1 state over time, one lane per series; `labels` name the two values. */
export function stateTimeline(
  title: string,
  description: string,
  queries: Query[],
  labels: [string, string] = ["down", "up"],
): PanelSpec {
  const mappings = [{
    type: "value",
    options: {
      "0": { text: labels[0], color: "red", index: 0 },
      "1": { text: labels[1], color: "green", index: 1 },
    },
  }];
  return {
    type: "state-timeline",
    title,
    description,
    queries,
    w: 12,
    h: 8,
    fieldConfig: fields("short", { mappings, color: { mode: "thresholds" } }),
    options: { showValue: "never", mergeValues: true, rowHeight: 0.8, legend: { showLegend: false } },
  };
}

/** Latency distribution over time from a Prometheus histogram. */
export function heatmap(title: string, description: string, query: Query): PanelSpec {
  return {
    type: "heatmap",
    title,
    description,
    queries: [{ ...query, format: "heatmap" }],
    w: 12,
    h: 8,
    options: {
      calculate: false,
      yAxis: { unit: "s" },
      cellGap: 1,
      color: { mode: "scheme", scheme: "Oranges", steps: 64 },
      tooltip: { show: true, yHistogram: true },
      rowsFrame: { layout: "auto" },
    },
  };
}

/** A table of instant values, one row per label set and one column per query (named by its legend). */
export function table(title: string, description: string, columns: [Query, string][]): PanelSpec {
  const queries = columns.map(([q]) => q);
  const renameByName = Object.fromEntries(
    queries.map((q, i) => [`Value #${String.fromCharCode(65 + i)}`, q.legend ?? `#${i}`]),
  );
  return {
    type: "table",
    title,
    description,
    queries: queries.map((q) => ({ ...q, legend: undefined, instant: true, format: "table" })),
    w: 24,
    h: 7,
    fieldConfig: {
      defaults: {},
      overrides: columns.map(([q, unit]) => ({
        matcher: { id: "byName", options: q.legend },
        properties: [{ id: "unit", value: unit }],
      })),
    },
    options: { showHeader: true, footer: { show: false } },
    // One frame per query: merge them into one row per label set, drop the time, name the values.
    transformations: [
      { id: "merge", options: {} },
      { id: "organize", options: { excludeByName: { Time: true }, renameByName } },
    ],
  };
}

/** A row header followed by its panels. */
export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

/**
 * Assign ids, grid positions and datasource references: rows stack vertically and panels flow
 * left to right, wrapping at 24 columns.
 */
export function layout(rows: RowSpec[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    out.push({
      type: "row",
      id: id++,
      title: row.title,
      collapsed: false,
      gridPos: { x: 0, y, w: 24, h: 1 },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      if (x + p.w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      const { queries, w, h, repeat, ...rest } = p;
      out.push({
        ...rest,
        id: id++,
        gridPos: { x, y, w, h },
        datasource: DATASOURCE,
        ...(repeat ? { repeat, repeatDirection: "h", maxPerRow: 4 } : {}),
        targets: queries.map((q, i) => ({
          datasource: DATASOURCE,
          refId: String.fromCharCode(65 + i),
          expr: q.expr,
          legendFormat: q.legend ?? "__auto",
          range: !q.instant,
          instant: q.instant ?? false,
          format: q.format ?? "time_series",
          editorMode: "code",
        })),
      });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return out;
}

/** A multi-select query variable over the values of `label` on `metric`. */
export function labelVariable(name: string, label: string, metric: string): Record<string, unknown> {
  const definition = `label_values(${metric}, ${label})`;
  return {
    type: "query",
    name,
    label: name,
    datasource: DATASOURCE,
    definition,
    query: { query: definition, refId: "PrometheusVariableQueryEditor-VariableQuery", qryType: 1 },
    refresh: 2,
    multi: true,
    includeAll: true,
    allValue: ".+",
    current: { selected: true, text: ["All"], value: ["$__all"] },
    sort: 1,
    hide: 0,
  };
}

/** The dashboard envelope. */
export function dashboard(spec: {
  uid: string;
  title: string;
  description: string;
  rows: RowSpec[];
  variables: Record<string, unknown>[];
  annotations: Record<string, unknown>[];
}): Record<string, unknown> {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ["lb"],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    refresh: "5s",
    time: { from: "now-15m", to: "now" },
    timepicker: { refresh_intervals: ["5s", "10s", "30s", "1m", "5m"] },
    timezone: "browser",
    fiscalYearStartMonth: 0,
    liveNow: false,
    links: [{ type: "dashboards", tags: ["lb"], asDropdown: false, title: "lb dashboards" }],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: "grafana", uid: "-- Grafana --" },
          enable: true,
          hide: true,
          iconColor: "rgba(0, 211, 255, 1)",
          name: "Annotations & Alerts",
          type: "dashboard",
        },
        ...spec.annotations,
      ],
    },
    templating: { list: spec.variables },
    panels: layout(spec.rows),
  };
}
