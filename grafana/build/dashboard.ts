/**
 * Dashboard assembly over `@grafana/grafana-foundation-sdk`: rows of {@linkcode PanelSpec}s laid
 * out on the 24-column grid, the `label_values()` variables and the dashboard envelope. The SDK
 * builds the JSON (its schemaVersion is the one of Grafana 11.6.0, the provisioned image); ids and
 * grid positions come out consistent by construction here.
 *
 * @module
 */

import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { DATASOURCE, type PanelSpec } from "./panels.ts";

/** A row header followed by its panels. */
export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

/** A grid cell. */
type GridPos = dashboard.GridPos;

/**
 * Assign ids and grid positions: rows stack vertically and panels flow left to right, wrapping
 * at 24 columns. Returns the builders in dashboard order, rows included.
 */
export function layout(rows: RowSpec[]): ({ row: dashboard.RowBuilder } | { panel: PanelSpec["panel"] })[] {
  const out: ({ row: dashboard.RowBuilder } | { panel: PanelSpec["panel"] })[] = [];
  let id = 1;
  let y = 0;
  for (const spec of rows) {
    const gridPos: GridPos = { x: 0, y, w: 24, h: 1 };
    out.push({ row: new dashboard.RowBuilder(spec.title).id(id++).collapsed(false).gridPos(gridPos) });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const { panel, w, h } of spec.panels) {
      if (x + w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      out.push({ panel: panel.id(id++).gridPos({ x, y, w, h }) });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return out;
}

/**
 * A multi-select query variable over the values of `label` on `series` (a metric with optional
 * matchers, which may name other variables: `lb_requests_total{service=~"$service"}` narrows the
 * backends to the selected services). All is `.+`, so it also matches values seen later.
 */
export function labelVariable(name: string, label: string, series: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(name)
    .datasource(DATASOURCE)
    .query({
      query: `label_values(${series}, ${label})`,
      refId: "PrometheusVariableQueryEditor-VariableQuery",
      qryType: 1,
    })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .multi(true)
    .includeAll(true)
    .allValue(".+")
    .current({ selected: true, text: ["All"], value: ["$__all"] })
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .hide(dashboard.VariableHide.DontHide);
}

/**
 * A Prometheus annotation. The SDK's AnnotationQuery has no fields for the Prometheus
 * datasource's own annotation options (step, title, text, tags), which Grafana reads beside
 * `expr`, so they are added to what the builder builds.
 */
export function promAnnotation(spec: {
  name: string;
  expr: string;
  iconColor: string;
  titleFormat: string;
  textFormat: string;
  tagKeys: string;
}): cog.Builder<dashboard.AnnotationQuery> {
  const b = new dashboard.AnnotationQueryBuilder()
    .name(spec.name)
    .datasource(DATASOURCE)
    .enable(true)
    .hide(false)
    .iconColor(spec.iconColor)
    .expr(spec.expr);
  const { titleFormat, textFormat, tagKeys } = spec;
  return {
    build: () => ({ ...b.build(), step: "5s", titleFormat, textFormat, tagKeys, useValueForTime: false }),
  };
}

/** Grafana's own annotations (and alerts) layer, present on every dashboard. */
const BUILT_IN = new dashboard.AnnotationQueryBuilder()
  .builtIn(1)
  .name("Annotations & Alerts")
  .type("dashboard")
  .datasource({ type: "grafana", uid: "-- Grafana --" })
  .enable(true)
  .hide(true)
  .iconColor("rgba(0, 211, 255, 1)");

/** The dashboard JSON. */
export function buildDashboard(spec: {
  uid: string;
  title: string;
  description: string;
  rows: RowSpec[];
  variables: dashboard.QueryVariableBuilder[];
  annotations: cog.Builder<dashboard.AnnotationQuery>[];
}): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(["lb"])
    .version(1)
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh("5s")
    .time({ from: "now-15m", to: "now" })
    .timepicker(new dashboard.TimePickerBuilder().refreshIntervals(["5s", "10s", "30s", "1m", "5m"]))
    .timezone("browser")
    .fiscalYearStartMonth(0)
    .liveNow(false)
    .link(
      new dashboard.DashboardLinkBuilder("lb dashboards")
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(["lb"])
        .asDropdown(false),
    )
    .annotations([BUILT_IN, ...spec.annotations])
    .variables(spec.variables);
  for (const item of layout(spec.rows)) {
    if ("row" in item) b.withRow(item.row);
    else b.withPanel(item.panel);
  }
  return b.build();
}
