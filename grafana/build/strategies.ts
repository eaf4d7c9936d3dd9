/**
 * The "Load balancer: strategies side by side" dashboard. Every request metric carries the
 * `strategy` that picked it (per service), so cycling strategies under one steady load
 * (`deno task cycle`) and grouping by `strategy` compares them on one screen: same backends,
 * same load, same clock.
 *
 * @module
 */

import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { buildDashboard } from "./dashboard.ts";

import { table, timeseries } from "./panels.ts";
import {
  annotations,
  errorRatio,
  latencyQuantile,
  legendOf,
  requestRate,
  SELECTED,
  shareInService,
  variables,
} from "./queries.ts";

/** The dashboard JSON. */
export function strategiesDashboard(): dashboard.Dashboard {
  const by = "service, strategy";
  const perBackendRate =
    `sum by (service, strategy, backend) (rate(lb_requests_total{${SELECTED}}[$__rate_interval]))`;
  const windowCount = (code = "") =>
    `sum by (${by}) (increase(lb_requests_total{${code}${SELECTED}}[$__range]))`;
  const quantile = (q: number) => latencyQuantile(q, by, SELECTED, "$__range");
  return buildDashboard({
    uid: "lb-strategies",
    title: "Load balancer: strategies side by side",
    description:
      "The same panels grouped by service and strategy; cycle strategies under steady load to compare them.",
    variables: variables(),
    annotations: annotations(),
    rows: [{
      title: "All strategies on one axis",
      panels: [
        timeseries(
          "p95 and p99 latency by strategy",
          "Each strategy's line covers the periods it was active in its service.",
          [0.95, 0.99].map((q) => ({ expr: latencyQuantile(q, by), legend: `${legendOf(by)} p${q * 100}` })),
          { unit: "s" },
        ),
        timeseries(
          "5xx ratio by strategy",
          "Share of requests answered 5xx while each strategy was active.",
          [{ expr: errorRatio(by), legend: legendOf(by) }],
          { unit: "percentunit", min: 0 },
        ),
        timeseries(
          "Load imbalance by strategy",
          "Coefficient of variation of per-backend request rates within a service: 0 is perfectly even. Weighted strategies are uneven on purpose.",
          [{
            expr: `stddev by (${by}) (${perBackendRate}) / avg by (${by}) (${perBackendRate})`,
            legend: legendOf(by),
          }],
          { unit: "percentunit", min: 0 },
        ),
        timeseries("Request rate by strategy", "Requests per second picked by each strategy.", [
          { expr: requestRate(by), legend: legendOf(by) },
        ], { unit: "reqps" }),
        table(
          "Summary over the selected time range",
          "One row per service and strategy over the dashboard's time range.",
          [
            [{ expr: windowCount(), legend: "requests" }, "short"],
            [{ expr: quantile(0.5), legend: "p50" }, "s"],
            [{ expr: quantile(0.95), legend: "p95" }, "s"],
            [{ expr: quantile(0.99), legend: "p99" }, "s"],
            [{
              expr: `(${windowCount('code=~"5..",')} or 0 * ${windowCount()}) / ${windowCount()}`,
              legend: "5xx ratio",
            }, "percentunit"],
          ],
        ),
      ],
    }, {
      // Repeated panels: Grafana copies each one per selected strategy, side by side, with
      // `$strategy` bound to that one value.
      title: "One column per strategy",
      panels: [
        timeseries(
          "Share per backend: $strategy",
          "Each backend's share of its service's requests under this strategy.",
          [{ expr: shareInService(), legend: legendOf("service, backend") }],
          { unit: "percentunit", min: 0, max: 1, w: 24, repeat: "strategy" },
        ),
        timeseries("p99 per backend: $strategy", "Each backend's p99 while this strategy picked.", [
          { expr: latencyQuantile(0.99, "service, backend"), legend: legendOf("service, backend") },
        ], { unit: "s", w: 24, repeat: "strategy" }),
        timeseries(
          "Request rate per backend: $strategy",
          "Requests per second each backend got from this strategy.",
          [{ expr: requestRate("service, backend"), legend: legendOf("service, backend") }],
          { unit: "reqps", w: 24, repeat: "strategy" },
        ),
      ],
    }],
  });
}
