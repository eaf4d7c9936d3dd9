/**
 * The "Load balancer" dashboard: traffic, latency, errors, health and configuration of one proxy.
 *
 * @module
 */

import { dashboard, DATASOURCE, heatmap, labelVariable, stat, stateTimeline, timeseries } from "./panels.ts";
import {
  errorRatio,
  latencyQuantile,
  rate,
  requestRate,
  SELECTED,
  share,
  strategyAnnotation,
} from "./queries.ts";

const QUANTILES = [0.5, 0.95, 0.99];
const BACKEND = 'backend=~"$backend"';

/** Three quantile queries grouped by `by`. */
const quantiles = (by: string) =>
  QUANTILES.map((q) => ({ expr: latencyQuantile(q, by), legend: `{{${by}}} p${q * 100}` }));

/** The dashboard JSON. */
export function loadBalancerDashboard(): Record<string, unknown> {
  return dashboard({
    uid: "lb-overview",
    title: "Load balancer",
    description: "Traffic, latency, errors and health of the lb proxy, from its admin /metrics.",
    variables: [
      labelVariable("backend", "backend", "lb_requests_total"),
      labelVariable("strategy", "strategy", "lb_requests_total"),
    ],
    annotations: [strategyAnnotation(DATASOURCE)],
    rows: [{
      title: "Overview",
      panels: [
        stat("Strategy", "The balancing strategy in use now (switch with PUT /api/strategy).", {
          expr: "lb_strategy_info == 1",
          legend: "{{strategy}}",
          instant: true,
        }, { text: "name" }),
        stat("Requests/s", "All answered requests per second.", { expr: requestRate("") }, { unit: "reqps" }),
        stat("5xx ratio", "Share of requests answered 5xx, including the proxy's own 502/503/504.", {
          expr: errorRatio(""),
        }, { unit: "percentunit", thresholds: [[0.01, "orange"], [0.05, "red"]] }),
        stat("p99 latency", "99th percentile of upstream request duration.", {
          expr: latencyQuantile(0.99, ""),
        }, { unit: "s", thresholds: [[0.5, "orange"], [2, "red"]] }),
        stat("Backends up", "Backends healthy and eligible for traffic.", {
          expr: "sum(lb_backend_up) or vector(0)",
          instant: true,
        }, { thresholds: [[0, "red"], [1, "green"]] }),
        stat("Version", "Proxy build.", { expr: "lb_build_info", legend: "{{version}}", instant: true }, {
          text: "name",
        }),
      ],
    }, {
      title: "Traffic",
      panels: [
        timeseries("Request rate per backend", "Requests per second answered through each backend.", [
          { expr: requestRate("backend"), legend: "{{backend}}" },
        ], { unit: "reqps" }),
        timeseries(
          "Share of traffic per backend",
          "Each backend's share of all requests; stacked to 100%. 'none' is requests that found no eligible backend.",
          [{ expr: share("backend"), legend: "{{backend}}" }],
          { unit: "percentunit", stack: "normal", min: 0, max: 1 },
        ),
        timeseries("In flight per backend", "Requests currently in flight to each backend.", [
          { expr: `sum by (backend) (lb_active_connections{${BACKEND}})`, legend: "{{backend}}" },
        ], { unit: "short", min: 0 }),
        timeseries(
          "Request rate per strategy",
          "Which strategy picked the requests: after a live switch one line hands over to the next.",
          [{ expr: requestRate("strategy"), legend: "{{strategy}}" }],
          { unit: "reqps" },
        ),
      ],
    }, {
      title: "Latency",
      panels: [
        timeseries(
          "Latency per backend (p50, p95, p99)",
          "Upstream request duration quantiles per backend.",
          quantiles("backend"),
          {
            unit: "s",
          },
        ),
        timeseries(
          "Latency per strategy (p50, p95, p99)",
          "Upstream request duration quantiles per strategy: compare periods before and after a switch.",
          quantiles("strategy"),
          { unit: "s" },
        ),
        heatmap("Latency heatmap", "Requests per duration bucket over time (all selected backends).", {
          expr: `sum by (le) (increase(lb_request_duration_seconds_bucket{${SELECTED}}[$__rate_interval]))`,
          legend: "{{le}}",
        }),
        timeseries("Mean latency per backend", "Sum of durations over their count.", [{
          expr: `sum by (backend) (${rate("lb_request_duration_seconds_sum")}) / sum by (backend) (${
            rate("lb_request_duration_seconds_count")
          })`,
          legend: "{{backend}}",
        }], { unit: "s" }),
      ],
    }, {
      title: "Errors and retries",
      panels: [
        timeseries(
          "Responses by code class",
          "Requests per second by status class (499: client went away).",
          [{
            expr: `sum by (class) (label_replace(${
              rate("lb_requests_total")
            }, "class", "\${1}xx", "code", "([0-9]).."))`,
            legend: "{{class}}",
          }],
          { unit: "reqps", stack: "normal" },
        ),
        timeseries("5xx ratio per backend", "Share of each backend's requests answered 5xx.", [
          { expr: errorRatio("backend"), legend: "{{backend}}" },
        ], { unit: "percentunit", min: 0 }),
        timeseries("Upstream errors by kind", "Connect failures, timeouts and resets per second.", [{
          expr: `sum by (backend, kind) (${rate("lb_upstream_errors_total", BACKEND)})`,
          legend: "{{backend}} {{kind}}",
        }], { unit: "reqps" }),
        timeseries(
          "Retries",
          "Retried attempts per second by reason, and requests refused a retry by the budget.",
          [
            {
              expr: `sum by (backend, reason) (${rate("lb_retries_total", BACKEND)})`,
              legend: "{{backend}} {{reason}}",
            },
            {
              expr: "sum(rate(lb_retry_budget_exhausted_total[$__rate_interval]))",
              legend: "budget exhausted",
            },
          ],
          { unit: "reqps" },
        ),
      ],
    }, {
      title: "Health",
      panels: [
        stateTimeline("Backend health", "Up when healthy and eligible for traffic.", [
          { expr: `max by (backend) (lb_backend_up{${BACKEND}})`, legend: "{{backend}}" },
        ]),
        timeseries("Health check failures", "Failed active health checks per second.", [{
          expr: `sum by (backend) (${rate("lb_health_checks_total", `result="failure",${BACKEND}`)})`,
          legend: "{{backend}}",
        }], { unit: "short" }),
        timeseries("Ejections", "Backends taken out of rotation by passive outlier detection.", [{
          expr: `sum by (backend) (increase(lb_ejections_total{${BACKEND}}[$__rate_interval]))`,
          legend: "{{backend}}",
        }], { unit: "short" }),
        timeseries(
          "Backend CPU and memory",
          "Container resource use as seen by the least-resources strategy.",
          [
            { expr: `lb_backend_cpu_ratio{${BACKEND}}`, legend: "{{backend}} cpu" },
            { expr: `lb_backend_memory_ratio{${BACKEND}}`, legend: "{{backend}} memory" },
          ],
          { unit: "percentunit", min: 0 },
        ),
      ],
    }, {
      title: "Configuration",
      panels: [
        stateTimeline("Strategy over time", "Which strategy was active when.", [
          { expr: "lb_strategy_info", legend: "{{strategy}}" },
        ], ["inactive", "active"]),
        timeseries("Config reloads", "Reloads by result; a failed reload keeps the previous config.", [{
          expr: "sum by (result) (increase(lb_config_reloads_total[$__rate_interval]))",
          legend: "{{result}}",
        }], { unit: "short" }),
      ],
    }],
  });
}
