/**
 * The "Load balancer: strategies side by side" dashboard. Every request metric carries the
 * `strategy` that picked it, so cycling strategies under one steady load (`deno task cycle`) and
 * grouping by `strategy` compares them on one screen: same backends, same load, same clock.
 *
 * @module
 */

import { dashboard, DATASOURCE, labelVariable, table, timeseries } from "./panels.ts";
import { errorRatio, latencyQuantile, requestRate, SELECTED, share, strategyAnnotation } from "./queries.ts";

/** The dashboard JSON. */
export function strategiesDashboard(): Record<string, unknown> {
  const perBackendRate =
    `sum by (strategy, backend) (rate(lb_requests_total{${SELECTED}}[$__rate_interval]))`;
  const windowCount = (code = "") =>
    `sum by (strategy) (increase(lb_requests_total{${code}${SELECTED}}[$__range]))`;
  return dashboard({
    uid: "lb-strategies",
    title: "Load balancer: strategies side by side",
    description: "The same panels grouped by strategy; cycle strategies under steady load to compare them.",
    variables: [
      labelVariable("strategy", "strategy", "lb_requests_total"),
      labelVariable("backend", "backend", "lb_requests_total"),
    ],
    annotations: [strategyAnnotation(DATASOURCE)],
    rows: [{
      title: "All strategies on one axis",
      panels: [
        timeseries(
          "p95 and p99 latency by strategy",
          "Each strategy's line covers the periods it was active.",
          [0.95, 0.99].map((q) => ({
            expr: latencyQuantile(q, "strategy"),
            legend: `{{strategy}} p${q * 100}`,
          })),
          { unit: "s" },
        ),
        timeseries(
          "5xx ratio by strategy",
          "Share of requests answered 5xx while each strategy was active.",
          [
            { expr: errorRatio("strategy"), legend: "{{strategy}}" },
          ],
          { unit: "percentunit", min: 0 },
        ),
        timeseries(
          "Load imbalance by strategy",
          "Coefficient of variation of per-backend request rates: 0 is perfectly even. Weighted strategies are uneven on purpose.",
          [{
            expr: `stddev by (strategy) (${perBackendRate}) / avg by (strategy) (${perBackendRate})`,
            legend: "{{strategy}}",
          }],
          { unit: "percentunit", min: 0 },
        ),
        timeseries("Request rate by strategy", "Requests per second picked by each strategy.", [
          { expr: requestRate("strategy"), legend: "{{strategy}}" },
        ], { unit: "reqps" }),
        table(
          "Summary over the selected time range",
          "One row per strategy over the dashboard's time range.",
          [
            [{ expr: windowCount(), legend: "requests" }, "short"],
            [{ expr: latencyQuantile(0.5, "strategy", SELECTED, "$__range"), legend: "p50" }, "s"],
            [{ expr: latencyQuantile(0.95, "strategy", SELECTED, "$__range"), legend: "p95" }, "s"],
            [{ expr: latencyQuantile(0.99, "strategy", SELECTED, "$__range"), legend: "p99" }, "s"],
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
        {
          ...timeseries("Share per backend: $strategy", "Each backend's share of this strategy's requests.", [
            { expr: share("backend", SELECTED), legend: "{{backend}}" },
          ], { unit: "percentunit", stack: "normal", min: 0, max: 1, w: 24 }),
          repeat: "strategy",
        },
        {
          ...timeseries("p99 per backend: $strategy", "Each backend's p99 while this strategy picked.", [
            { expr: latencyQuantile(0.99, "backend", SELECTED), legend: "{{backend}}" },
          ], { unit: "s", w: 24 }),
          repeat: "strategy",
        },
        {
          ...timeseries(
            "Request rate per backend: $strategy",
            "Requests per second each backend got from this strategy.",
            [
              { expr: requestRate("backend", SELECTED), legend: "{{backend}}" },
            ],
            { unit: "reqps", w: 24 },
          ),
          repeat: "strategy",
        },
      ],
    }],
  });
}
