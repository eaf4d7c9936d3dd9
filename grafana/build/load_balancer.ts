/**
 * The "Load balancer" dashboard: traffic, latency, errors, the wait queue, health, reported load,
 * edge protocols, alerts, configuration and operability of one proxy, per service and backend.
 *
 * @module
 */

import { buildDashboard } from "./dashboard.ts";
import { healthRows, trafficRows } from "./load_balancer_rows.ts";
import { stat, timeseries } from "./panels.ts";
import {
  annotations,
  BACKEND,
  errorRatio,
  FIRING_COUNT,
  latencyQuantile,
  quantiles,
  requestRate,
  SERVICE,
  variables,
} from "./queries.ts";
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";

/** The dashboard JSON. */
export function loadBalancerDashboard(): dashboard.Dashboard {
  return buildDashboard({
    uid: "lb-overview",
    title: "Load balancer",
    description: "Traffic, latency, errors and health of the lb proxy per service, from its admin /metrics.",
    variables: variables(),
    annotations: annotations(),
    rows: [
      {
        title: "Overview",
        panels: [
          stat("Strategy", "Each service's balancing strategy now (PUT /api/services/{service}/strategy).", {
            expr: `lb_strategy_info{${SERVICE}} == 1`,
            legend: "{{service}}: {{strategy}}",
            instant: true,
          }, { text: "name" }),
          stat("Requests/s", "All answered requests per second.", { expr: requestRate("") }, {
            unit: "reqps",
            w: 3,
          }),
          stat("5xx ratio", "Share of requests answered 5xx, including the proxy's own 502/503/504.", {
            expr: errorRatio(""),
          }, { unit: "percentunit", thresholds: [[0.01, "orange"], [0.05, "red"]], w: 3 }),
          stat("p99 latency", "99th percentile of upstream request duration.", {
            expr: latencyQuantile(0.99, ""),
          }, { unit: "s", thresholds: [[0.5, "orange"], [2, "red"]], w: 3 }),
          stat("Backends up", "Backends healthy and eligible for traffic, in the selected services.", {
            expr: `sum(lb_backend_up{${BACKEND}}) or vector(0)`,
            instant: true,
          }, { thresholds: [[0, "red"], [1, "green"]], w: 3 }),
          stat(
            "Firing alerts",
            "Alerts of docker/prometheus/alert_rules.yml firing now (Alerts row below).",
            {
              expr: FIRING_COUNT,
              instant: true,
            },
            { thresholds: [[1, "red"]] },
          ),
          stat("Version", "Proxy build.", { expr: "lb_build_info", legend: "{{version}}", instant: true }, {
            text: "name",
          }),
        ],
      },
      {
        title: "Services",
        panels: [
          timeseries("Request rate per service", "Requests per second each service answered.", [
            { expr: requestRate("service"), legend: "{{service}}" },
          ], { unit: "reqps" }),
          timeseries("5xx ratio per service", "Share of each service's requests answered 5xx.", [
            { expr: errorRatio("service"), legend: "{{service}}" },
          ], { unit: "percentunit", min: 0 }),
          timeseries(
            "Latency per service (p50, p95, p99)",
            "Upstream request duration quantiles per service.",
            quantiles("service"),
            { unit: "s" },
          ),
          timeseries(
            "Healthy backends per service",
            "Backends able to take the service's traffic; 0: the service answers 503.",
            [{ expr: `sum by (service) (lb_service_healthy_backends{${SERVICE}})`, legend: "{{service}}" }],
            { unit: "short", min: 0 },
          ),
        ],
      },
      ...trafficRows(),
      ...healthRows(),
    ],
  });
}
