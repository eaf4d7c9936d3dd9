/**
 * PromQL building blocks shared by the dashboards, so every panel filters and aggregates the
 * same way. `$service`, `$backend` and `$strategy` are the dashboard variables (regexes, `.+` for
 * All). Backend names are unique within a service only, so per-backend queries group by both.
 *
 * @module
 */

import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { labelVariable, promAnnotation } from "./dashboard.ts";

/** The legend of a series grouped by `by` ("service, backend" reads `{{service}}/{{backend}}`). */
export const legendOf = (by: string): string => by.split(", ").map((l) => `{{${l}}}`).join("/");

/** Label matchers for the request metrics under the dashboard's variables. */
export const SELECTED = 'service=~"$service",backend=~"$backend",strategy=~"$strategy"';

/** Matchers for per-backend series that carry no strategy (gauges, health, errors). */
export const BACKEND = 'service=~"$service",backend=~"$backend"';

/** Matchers for per-service series. */
export const SERVICE = 'service=~"$service"';

/** Per-second rate of a counter under `matchers`, over Grafana's scrape-aware window. */
export function rate(metric: string, matchers = SELECTED): string {
  return `rate(${metric}{${matchers}}[$__rate_interval])`;
}

/** Requests per second summed by `by` (empty for a grand total). */
export function requestRate(by: string, matchers = SELECTED): string {
  return by
    ? `sum by (${by}) (${rate("lb_requests_total", matchers)})`
    : `sum(${rate("lb_requests_total", matchers)})`;
}

/** Latency quantile `q` from the duration histogram, grouped by `by`, over `window`. */
export function latencyQuantile(
  q: number,
  by: string,
  matchers = SELECTED,
  window = "$__rate_interval",
): string {
  const group = by ? `${by}, le` : "le";
  const fn = window === "$__rate_interval" ? "rate" : "increase";
  return `histogram_quantile(${q}, sum by (${group}) (${fn}(lb_request_duration_seconds_bucket{${matchers}}[${window}])))`;
}

/**
 * Share of 5xx answers grouped by `by`. Groups that answered only successes read 0, not "no data",
 * so a healthy backend shows a flat line instead of a gap.
 */
export function errorRatio(by: string, matchers = SELECTED): string {
  const all = requestRate(by, matchers);
  const errors = requestRate(by, `code=~"5..",${matchers}`);
  const zero = by ? `0 * ${all}` : "vector(0)";
  return `(${errors} or ${zero}) / ${all}`;
}

/** Each group's share of all requests, 0..1. */
export function share(by: string, matchers = SELECTED): string {
  return `${requestRate(by, matchers)} / scalar(${requestRate("", matchers)})`;
}

/** Each backend's share of its own service's requests, 0..1 (the services side by side). */
export function shareInService(matchers = SELECTED): string {
  return `${requestRate("service, backend", matchers)} / ignoring(backend) group_left ${
    requestRate("service", matchers)
  }`;
}

/** Alerts firing now; 0 when none is (`ALERTS` has a series only while an alert is active). */
export const FIRING_COUNT = 'count(ALERTS{alertstate="firing"}) or vector(0)';

/** Active alerts, one series per alert, state and service (absent label: a proxy-wide alert). */
export const ACTIVE_ALERTS = "count by (alertname, alertstate, severity, service) (ALERTS)";

/** The annotation that marks alerts while they fire, from the series Prometheus writes for them. */
export const FIRING_ALERTS = 'ALERTS{alertstate="firing"}';

/**
 * Strategy switches: the strategy series during its first 30 s. A switch replaces the
 * `lb_strategy_info` series, so `changes()` cannot see it; a series that did not exist 30 s ago can.
 */
export const STRATEGY_SWITCHES = "lb_strategy_info == 1 unless lb_strategy_info offset 30s";

/** The annotations on both dashboards: strategy switches and firing alerts. */
export function annotations(): cog.Builder<dashboard.AnnotationQuery>[] {
  return [
    promAnnotation({
      name: "Strategy changes",
      expr: STRATEGY_SWITCHES,
      iconColor: "purple",
      titleFormat: "strategy",
      textFormat: "{{service}} now {{strategy}}",
      tagKeys: "service,strategy",
    }),
    promAnnotation({
      name: "Firing alerts",
      expr: FIRING_ALERTS,
      iconColor: "red",
      titleFormat: "{{alertname}}",
      textFormat: "{{severity}} {{service}}",
      tagKeys: "alertname,severity,service",
    }),
  ];
}

/** Latency quantiles p50, p95 and p99 grouped by `by`, one query each. */
export function quantiles(by: string): { expr: string; legend: string }[] {
  return [0.5, 0.95, 0.99].map((q) => ({
    expr: latencyQuantile(q, by),
    legend: `${legendOf(by)} p${q * 100}`,
  }));
}

/** The dashboard variables: services, then the backends and strategies of the selected services. */
export function variables(): dashboard.QueryVariableBuilder[] {
  return [
    labelVariable("service", "service", "lb_requests_total"),
    labelVariable("backend", "backend", `lb_requests_total{${SERVICE}}`),
    labelVariable("strategy", "strategy", `lb_requests_total{${SERVICE}}`),
  ];
}
