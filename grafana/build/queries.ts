/**
 * PromQL building blocks shared by the dashboards, so every panel filters and aggregates the
 * same way. `$backend` and `$strategy` are the dashboard variables (regexes, `.+` for All).
 *
 * @module
 */

/** Label matchers for the request metrics under the dashboard's variables. */
export const SELECTED = 'backend=~"$backend",strategy=~"$strategy"';

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

/**
 * Strategy switches: the strategy series during its first 30 s. A switch replaces the
 * `lb_strategy_info` series, so `changes()` cannot see it; a series that did not exist 30 s ago can.
 */
export const STRATEGY_SWITCHES = "lb_strategy_info == 1 unless lb_strategy_info offset 30s";

/** The annotation that marks strategy switches on every time series panel. */
export function strategyAnnotation(datasource: Record<string, unknown>): Record<string, unknown> {
  return {
    name: "Strategy changes",
    datasource,
    enable: true,
    hide: false,
    iconColor: "purple",
    expr: STRATEGY_SWITCHES,
    step: "5s",
    titleFormat: "strategy",
    textFormat: "now {{strategy}}",
    tagKeys: "strategy",
    useValueForTime: false,
  };
}
