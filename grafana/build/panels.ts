/**
 * Panel constructors over Grafana's typed builders (`@grafana/grafana-foundation-sdk`, the 11.6.0
 * build, matching the provisioned `grafana/grafana:11.6.0`). Each returns a {@linkcode PanelSpec}:
 * the SDK builder with everything but its id and grid position, which {@linkcode layout} in
 * dashboard.ts assigns, so the dashboards are written as lists of panels and their queries.
 *
 * @module
 */

import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as heatmapPanel from "@grafana/grafana-foundation-sdk/heatmap";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as statPanel from "@grafana/grafana-foundation-sdk/stat";
import * as stateTimelinePanel from "@grafana/grafana-foundation-sdk/statetimeline";
import * as tablePanel from "@grafana/grafana-foundation-sdk/table";
import * as timeseriesPanel from "@grafana/grafana-foundation-sdk/timeseries";

/** The provisioned Prometheus datasource (see grafana/provisioning/datasources/prometheus.yml). */
export const DATASOURCE = { type: "prometheus", uid: "lb-prometheus" } as const;

/** Its name there: the alert list panel filters data source-managed alerts by name, not uid. */
export const DATASOURCE_NAME = "Prometheus";

/** One PromQL query of a panel. */
export interface Query {
  expr: string;
  legend?: string;
  /** Evaluate once at the end of the range (stat and table panels). */
  instant?: boolean;
  /** `heatmap` turns cumulative buckets into per-bucket counts; `table` keeps labels as columns. */
  format?: prometheus.PromQueryFormat;
}

/** What every SDK panel builder offers that the layout needs. */
export interface PanelBuilder extends cog.Builder<dashboard.Panel> {
  id(id: number): this;
  gridPos(gridPos: dashboard.GridPos): this;
}

/** A panel before layout, with its width in grid columns (of 24) and height in rows. */
export interface PanelSpec {
  panel: PanelBuilder;
  w: number;
  h: number;
}

/** Options shared by every panel kind. */
export interface CommonOptions {
  w?: number;
  h?: number;
  /**
   * What the panel shows instead of "No data" when its queries return no series: for panels
   * that are empty by design (no retries, no TLS listener, no Docker), e.g. "none".
   */
  noValue?: string;
  /** Repeat the panel for every selected value of this variable, side by side. */
  repeat?: string;
}

/** The SDK query builders of `queries`, refIds A, B, ... */
export function targets(queries: Query[]): prometheus.DataqueryBuilder[] {
  return queries.map((q, i) => {
    const t = new prometheus.DataqueryBuilder()
      .datasource(DATASOURCE)
      .refId(String.fromCharCode(65 + i))
      .expr(q.expr)
      .legendFormat(q.legend ?? "__auto")
      .format(q.format ?? prometheus.PromQueryFormat.TimeSeries)
      .editorMode(prometheus.QueryEditorMode.Code);
    return q.instant ? t.instant() : t.range();
  });
}

type AnyPanel =
  | timeseriesPanel.PanelBuilder
  | statPanel.PanelBuilder
  | stateTimelinePanel.PanelBuilder
  | heatmapPanel.PanelBuilder
  | tablePanel.PanelBuilder;

/** Title, description, datasource, queries and the common options on any panel builder. */
function base<P extends AnyPanel>(
  panel: P,
  title: string,
  description: string,
  queries: Query[],
  opts: CommonOptions,
  size: { w: number; h: number },
): PanelSpec {
  panel.title(title).description(description).datasource(DATASOURCE).targets(targets(queries));
  if (opts.noValue !== undefined) panel.noValue(opts.noValue);
  if (opts.repeat) panel.repeat(opts.repeat).repeatDirection("h").maxPerRow(4);
  return { panel, w: opts.w ?? size.w, h: opts.h ?? size.h };
}

/** A line chart; `stack: "normal"` stacks the series. */
export function timeseries(
  title: string,
  description: string,
  queries: Query[],
  opts: CommonOptions & { unit: string; stack?: "normal"; min?: number; max?: number } = { unit: "short" },
): PanelSpec {
  const p = new timeseriesPanel.PanelBuilder()
    .unit(opts.unit)
    .drawStyle(common.GraphDrawStyle.Line)
    .lineWidth(1)
    .fillOpacity(opts.stack ? 60 : 10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .stacking(
      new common.StackingConfigBuilder()
        .mode(opts.stack ? common.StackingMode.Normal : common.StackingMode.None)
        .group("A"),
    )
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Right)
        .calcs(["mean", "lastNotNull"])
        .showLegend(true),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(
        common.SortOrder.Descending,
      ),
    );
  if (opts.min !== undefined) p.min(opts.min);
  if (opts.max !== undefined) p.max(opts.max);
  return base(p, title, description, queries, opts, { w: 12, h: 8 });
}

/** Threshold steps: green below the first, then each colour from its value up. */
function thresholds(steps: [number, string][] = []): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
    { value: null, color: "green" },
    ...steps.map(([value, color]) => ({ value, color })),
  ]);
}

/** A single big number (or the series names, for info metrics). */
export function stat(
  title: string,
  description: string,
  query: Query,
  opts: CommonOptions & { unit?: string; text?: "value" | "name"; thresholds?: [number, string][] } = {},
): PanelSpec {
  const p = new statPanel.PanelBuilder()
    .unit(opts.unit ?? "short")
    .thresholds(thresholds(opts.thresholds))
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).fields("").values(false))
    .textMode(opts.text === "name" ? common.BigValueTextMode.Name : common.BigValueTextMode.Value)
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(opts.text === "name" ? common.BigValueGraphMode.None : common.BigValueGraphMode.Area);
  return base(p, title, description, [query], opts, { w: 4, h: 4 });
}

/** A 0/1 state over time, one lane per series; `labels` name the two values. */
export function stateTimeline(
  title: string,
  description: string,
  queries: Query[],
  labels: [string, string] = ["down", "up"],
  opts: CommonOptions = {},
): PanelSpec {
  const p = new stateTimelinePanel.PanelBuilder()
    .mappings([{
      type: dashboard.MappingType.ValueToText,
      options: {
        "0": { text: labels[0], color: "red", index: 0 },
        "1": { text: labels[1], color: "green", index: 1 },
      },
    }])
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds))
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .rowHeight(0.8)
    .legend(new common.VizLegendOptionsBuilder().showLegend(false));
  return base(p, title, description, queries, opts, { w: 12, h: 8 });
}

/** Latency distribution over time from a Prometheus histogram (buckets as Prometheus counts them). */
export function heatmap(
  title: string,
  description: string,
  query: Query,
  opts: CommonOptions = {},
): PanelSpec {
  const p = new heatmapPanel.PanelBuilder()
    .calculate(false)
    .yAxis(new heatmapPanel.YAxisConfigBuilder().unit("s"))
    .cellGap(1)
    .color(
      new heatmapPanel.HeatmapColorOptionsBuilder()
        .mode(heatmapPanel.HeatmapColorMode.Scheme)
        .scheme("Oranges")
        .steps(64),
    )
    .showYHistogram()
    .rowsFrame(new heatmapPanel.RowsHeatmapOptionsBuilder().layout(common.HeatmapCellLayout.Auto));
  const q = { ...query, format: prometheus.PromQueryFormat.Heatmap };
  return base(p, title, description, [q], opts, { w: 12, h: 8 });
}

/** A table of instant values, one row per label set and one column per query (named by its legend). */
export function table(
  title: string,
  description: string,
  columns: [Query, string][],
  opts: CommonOptions = {},
): PanelSpec {
  const queries = columns.map(([q]) => ({
    ...q,
    legend: undefined,
    instant: true,
    format: prometheus.PromQueryFormat.Table,
  }));
  const renameByName = Object.fromEntries(
    columns.map(([q], i) => [`Value #${String.fromCharCode(65 + i)}`, q.legend ?? `#${i}`]),
  );
  const p = new tablePanel.PanelBuilder().showHeader(true);
  for (const [q, unit] of columns) p.overrideByName(q.legend ?? "", [{ id: "unit", value: unit }]);
  // One frame per query: merge them into one row per label set, drop the time, name the values.
  p.withTransformation({ id: "merge", options: {} })
    .withTransformation({ id: "organize", options: { excludeByName: { Time: true }, renameByName } });
  return base(p, title, description, queries, opts, { w: 24, h: 7 });
}

/**
 * Grafana's alert list, showing the alerts the Prometheus datasource evaluates (its rules API:
 * docker/prometheus/alert_rules.yml), firing and pending, grouped by rule. It reads no PromQL, so
 * the dashboards also chart `ALERTS`, which a test can evaluate.
 */
export function alertList(title: string, description: string, opts: CommonOptions = {}): PanelSpec {
  const p = new dashboard.PanelBuilder()
    .type("alertlist")
    .title(title)
    .description(description)
    .options({
      viewMode: "list",
      groupMode: "default",
      groupBy: [],
      maxItems: 20,
      sortOrder: 1,
      dashboardAlerts: false,
      alertName: "",
      alertInstanceLabelFilter: "",
      datasource: DATASOURCE_NAME,
      showInstances: true,
      stateFilter: { firing: true, pending: true, noData: false, normal: false, error: true },
    });
  return { panel: p, w: opts.w ?? 12, h: opts.h ?? 8 };
}
