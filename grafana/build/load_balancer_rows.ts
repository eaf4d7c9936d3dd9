/**
 * The rows of the "Load balancer" dashboard below its overview: traffic, edge protocols, latency,
 * errors and the wait queue, health, reported load and probes, alerts, configuration and operability.
 *
 * @module
 */

import type { RowSpec } from "./dashboard.ts";
import { alertList, heatmap, stateTimeline, timeseries } from "./panels.ts";
import {
  ACTIVE_ALERTS,
  BACKEND,
  errorRatio,
  legendOf,
  quantiles,
  rate,
  requestRate,
  SELECTED,
  SERVICE,
  shareInService,
} from "./queries.ts";

/** Traffic, edge protocols and latency. */
export function trafficRows(): RowSpec[] {
  const by = "service, backend";
  return [{
    title: "Traffic",
    panels: [
      timeseries("Request rate per backend", "Requests per second answered through each backend.", [
        { expr: requestRate(by), legend: legendOf(by) },
      ], { unit: "reqps" }),
      timeseries(
        "Share of traffic per backend",
        "Each backend's share of its service's requests. 'none' is requests that found no eligible backend.",
        [{ expr: shareInService(), legend: legendOf(by) }],
        { unit: "percentunit", min: 0, max: 1 },
      ),
      timeseries("In flight per backend", "Requests (and tunnels) currently open to each backend.", [
        { expr: `sum by (${by}) (lb_active_connections{${BACKEND}})`, legend: legendOf(by) },
      ], { unit: "short", min: 0 }),
      timeseries(
        "Request rate per strategy",
        "Which strategy picked the requests: after a live switch one line hands over to the next.",
        [{ expr: requestRate("service, strategy"), legend: legendOf("service, strategy") }],
        { unit: "reqps" },
      ),
    ],
  }, {
    title: "Edge: protocols, TLS, WebSocket",
    panels: [
      timeseries("Requests by protocol", "Requests per second by HTTP version: http/1.0, http/1.1, h2.", [
        { expr: requestRate("protocol"), legend: "{{protocol}}" },
      ], { unit: "reqps", w: 8 }),
      timeseries(
        "TLS handshake failures",
        "Failed handshakes on the TLS listener per second: timeout, protocol (not TLS), certificate, other. None without a TLS listener.",
        [{
          expr: "sum by (reason) (rate(lb_tls_handshake_failures_total[$__rate_interval]))",
          legend: "{{reason}}",
        }],
        { unit: "short", w: 8, noValue: "none" },
      ),
      timeseries(
        "Open WebSocket tunnels",
        "Upgraded connections (WebSocket and others) open to each backend.",
        [
          { expr: `sum by (${by}) (lb_open_tunnels{${BACKEND}})`, legend: legendOf(by) },
        ],
        { unit: "short", min: 0, w: 8 },
      ),
    ],
  }, {
    title: "Latency",
    panels: [
      timeseries(
        "Latency per backend (p50, p95, p99)",
        "Upstream request duration quantiles per backend.",
        quantiles(by),
        { unit: "s" },
      ),
      timeseries(
        "Latency per strategy (p50, p95, p99)",
        "Upstream request duration quantiles per strategy: compare periods before and after a switch.",
        quantiles("service, strategy"),
        { unit: "s" },
      ),
      heatmap("Latency heatmap", "Requests per duration bucket over time (all selected backends).", {
        expr: `sum by (le) (increase(lb_request_duration_seconds_bucket{${SELECTED}}[$__rate_interval]))`,
        legend: "{{le}}",
      }),
      timeseries("Mean latency per backend", "Sum of durations over their count.", [{
        expr: `sum by (${by}) (${rate("lb_request_duration_seconds_sum")}) / sum by (${by}) (${
          rate("lb_request_duration_seconds_count")
        })`,
        legend: legendOf(by),
      }], { unit: "s" }),
    ],
  }];
}

/** Errors and the wait queue, health, reported load and probes, alerts, configuration and operability. */
export function healthRows(): RowSpec[] {
  const by = "service, backend";
  return [{
    title: "Errors, retries and queueing",
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
        { expr: errorRatio(by), legend: legendOf(by) },
      ], { unit: "percentunit", min: 0 }),
      timeseries("Upstream errors by kind", "Connect failures, timeouts and resets per second.", [{
        expr: `sum by (${by}, kind) (${rate("lb_upstream_errors_total", BACKEND)})`,
        legend: `${legendOf(by)} {{kind}}`,
      }], { unit: "reqps" }),
      timeseries(
        "Retries",
        "Retried attempts per second by the backend that failed and why, and failed attempts the retry budget refused.",
        [
          {
            expr: `sum by (${by}, reason) (${rate("lb_retries_total", BACKEND)})`,
            legend: `${legendOf(by)} {{reason}}`,
          },
          {
            expr: `sum(${rate("lb_retry_budget_exhausted_total", SERVICE)}) or vector(0)`,
            legend: "budget exhausted",
          },
        ],
        { unit: "reqps", noValue: "none" },
      ),
      timeseries(
        "Hedges",
        "Hedged requests per second per service (hedging is off unless configured): sent, won (the hedge's answer was relayed), lost, and hedges the budget refused.",
        [
          ...["hedges", "hedges_won", "hedges_lost"].map((m) => ({
            expr: `sum by (service) (${rate(`lb_${m}_total`, SERVICE)})`,
            legend: `{{service}} ${m === "hedges" ? "sent" : m.slice("hedges_".length)}`,
          })),
          {
            expr: `sum(${rate("lb_hedge_budget_exhausted_total", SERVICE)}) or vector(0)`,
            legend: "budget exhausted",
          },
        ],
        { unit: "reqps" },
      ),
      timeseries(
        "Queued requests",
        "Requests waiting per service because every healthy backend is at max_connections; 0 while none is (or no backend has max_connections).",
        [{ expr: `sum by (service) (lb_queued_requests{${SERVICE}})`, legend: "{{service}}" }],
        { unit: "short", min: 0, w: 6 },
      ),
      timeseries(
        "Queue rejections",
        "Queued requests answered 503 per second: full (queue.max waiting already) or timeout (waited queue.timeout).",
        [{
          expr: `sum by (service, reason) (${rate("lb_queue_rejected_total", SERVICE)})`,
          legend: "{{service}} {{reason}}",
        }],
        { unit: "reqps", min: 0, w: 6 },
      ),
    ],
  }, {
    title: "Health",
    panels: [
      stateTimeline("Backend health", "Up when healthy and eligible for traffic.", [
        { expr: `max by (${by}) (lb_backend_up{${BACKEND}})`, legend: legendOf(by) },
      ]),
      timeseries(
        "Backends by state",
        "Why backends are down: each service's backends per state, unknown (not probed yet), healthy, unhealthy (active health checks fail), draining (admin API or a reload), ejected (passive health).",
        [{ expr: `sum by (service, state) (lb_backend_state{${BACKEND}})`, legend: "{{service}} {{state}}" }],
        { unit: "short", min: 0, stack: "normal" },
      ),
      timeseries("Health check failures", "Failed active health checks per second.", [{
        expr: `sum by (${by}) (${rate("lb_health_checks_total", `result="failure",${BACKEND}`)})`,
        legend: legendOf(by),
      }], { unit: "short" }),
      timeseries("Ejections", "Backends taken out of rotation by passive outlier detection.", [{
        expr: `sum by (${by}) (increase(lb_ejections_total{${BACKEND}}[$__rate_interval]))`,
        legend: legendOf(by),
      }], { unit: "short", noValue: "none" }),
      timeseries(
        "Backend CPU and memory",
        "Container resource use as seen by the least-resources strategy; none for backends without a container.",
        [
          { expr: `lb_backend_cpu_ratio{${BACKEND}}`, legend: `${legendOf(by)} cpu` },
          { expr: `lb_backend_memory_ratio{${BACKEND}}`, legend: `${legendOf(by)} memory` },
        ],
        { unit: "percentunit", min: 0, noValue: "none: no container stats" },
      ),
      stateTimeline(
        "Docker Engine",
        "Whether each proxy's Docker Engine answered its latest stats or discovery request; none when the proxy does not use Docker.",
        [{ expr: "min by (instance) (lb_docker_up)", legend: "{{instance}}" }],
        ["unreachable", "up"],
        { w: 6, noValue: "none: no Docker" },
      ),
      timeseries(
        "Docker Engine errors",
        "Failed Docker Engine requests per second by component (stats, discovery); each retry counts. None without Docker.",
        [{
          expr: "sum by (component) (rate(lb_docker_errors_total[$__rate_interval]))",
          legend: "{{component}}",
        }],
        { unit: "short", min: 0, w: 6, noValue: "none: no Docker" },
      ),
    ],
  }, {
    title: "Reported load and probes",
    panels: [
      timeseries(
        "Reported utilization",
        "Each backend's latest Endpoint-Load-Metrics (ORCA) report: application_utilization when positive, else cpu_utilization. None for backends that send no report.",
        [{ expr: `max by (${by}) (lb_backend_reported_utilization{${BACKEND}})`, legend: legendOf(by) }],
        { unit: "percentunit", min: 0, noValue: "none: no load reports" },
      ),
      timeseries(
        "Report age",
        "Seconds since each backend's latest valid load report: a backend that stops answering keeps its last report, growing old.",
        [{ expr: `max by (${by}) (lb_backend_report_age_seconds{${BACKEND}})`, legend: legendOf(by) }],
        { unit: "s", min: 0, noValue: "none: no load reports" },
      ),
      timeseries(
        "Load reports",
        "Endpoint-Load-Metrics headers received per second by backend and result: valid, or invalid (ignored, the previous report stays). 0 for backends that send none.",
        [{
          expr: `sum by (${by}, result) (${rate("lb_load_reports_total", BACKEND)})`,
          legend: `${legendOf(by)} {{result}}`,
        }],
        { unit: "short", min: 0 },
      ),
      timeseries(
        "Prequal probes",
        "Load probes per second while prequal is a service's strategy, by backend and result (success, failure), and probes due but not sent: budget (prequal.max_probe_share reached) or busy (every eligible backend had one in flight). 0 under other strategies.",
        [
          {
            expr: `sum by (${by}, result) (${rate("lb_probes_total", BACKEND)})`,
            legend: `${legendOf(by)} {{result}}`,
          },
          {
            expr: `sum by (service, reason) (${rate("lb_probes_skipped_total", SERVICE)})`,
            legend: "{{service}} skipped: {{reason}}",
          },
        ],
        { unit: "short", min: 0 },
      ),
    ],
  }, {
    title: "Alerts",
    panels: [
      alertList(
        "Alert list",
        "Firing and pending alerts of the Prometheus datasource (docker/prometheus/alert_rules.yml), with their labels.",
      ),
      timeseries(
        "Active alerts",
        "Alerts pending (condition true, waiting out its `for`) and firing, from Prometheus's ALERTS series.",
        [{ expr: ACTIVE_ALERTS, legend: "{{alertname}} {{alertstate}} {{service}}" }],
        { unit: "short", min: 0, noValue: "none active" },
      ),
    ],
  }, {
    title: "Configuration and operability",
    panels: [
      stateTimeline("Strategy over time", "Which strategy each service used when.", [
        { expr: `lb_strategy_info{${SERVICE}}`, legend: "{{service}}: {{strategy}}" },
      ], ["inactive", "active"]),
      timeseries("Config reloads", "Reloads by result; a failed reload keeps the previous config.", [{
        expr: "sum by (result) (increase(lb_config_reloads_total[$__rate_interval]))",
        legend: "{{result}}",
      }], { unit: "short", noValue: "none" }),
      stateTimeline(
        "Last config reload",
        "Whether each proxy's last config reload succeeded (also up when none was tried yet); a failure stays until a reload succeeds, and the proxy keeps running the previous config.",
        [{ expr: "min by (instance) (lb_config_last_reload_successful)", legend: "{{instance}}" }],
        ["failed", "succeeded"],
      ),
      timeseries(
        "Access log lines dropped",
        "Access-log lines lost per second: buffer_full (the disk or pipe is slower than the requests) or write_error. Requests never wait for the log.",
        [{
          expr: "sum by (reason) (rate(lb_access_log_dropped_total[$__rate_interval]))",
          legend: "{{reason}}",
        }],
        { unit: "short", min: 0 },
      ),
    ],
  }];
}
