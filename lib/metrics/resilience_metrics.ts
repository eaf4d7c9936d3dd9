/**
 * Metrics of the resilience features: retries, the retry budget, ejections, the wait queue and
 * config reloads. Registered on the process's one registry next to {@linkcode Metrics}.
 *
 * @module
 */

import { Counter, Gauge, type Registry } from "prom-client";
import { removeBackendSeries } from "./series.ts";

/** Resilience metrics of one proxy instance. */
export class ResilienceMetrics {
  readonly retries: Counter<"backend" | "reason">;
  readonly budgetExhausted: Counter;
  readonly ejections: Counter<"backend">;
  readonly queued: Gauge;
  readonly queueRejected: Counter<"reason">;
  readonly reloads: Counter<"result">;

  /**
   * Create and register the metrics.
   *
   * @param queueLength read at scrape time, so the gauge cannot drift from the queue.
   */
  constructor(registry: Registry, queueLength: () => number = () => 0) {
    const registers = [registry];
    this.retries = new Counter({
      name: "lb_retries_total",
      help:
        "Retries sent, by the backend whose attempt failed and the reason (connect_failure, reset, timeout or the status code).",
      labelNames: ["backend", "reason"],
      registers,
    });
    this.budgetExhausted = new Counter({
      name: "lb_retry_budget_exhausted_total",
      help: "Retries not sent because the retry budget was spent.",
      registers,
    });
    this.ejections = new Counter({
      name: "lb_ejections_total",
      help: "Backends ejected by passive health (consecutive failed requests).",
      labelNames: ["backend"],
      registers,
    });
    this.queued = new Gauge({
      name: "lb_queued_requests",
      help: "Requests waiting because every healthy backend is at max_connections.",
      registers,
      collect() {
        this.set(queueLength());
      },
    });
    this.queueRejected = new Counter({
      name: "lb_queue_rejected_total",
      help: "Requests answered 503 by the wait queue: full or timeout.",
      labelNames: ["reason"],
      registers,
    });
    this.reloads = new Counter({
      name: "lb_config_reloads_total",
      help: "Config reloads (SIGHUP or POST /api/reload) by result.",
      labelNames: ["result"],
      registers,
    });
    for (const result of ["success", "failure"]) this.reloads.inc({ result }, 0);
    for (const reason of ["full", "timeout"]) this.queueRejected.inc({ reason }, 0);
  }

  /** Create a backend's series at zero so dashboards see it before its first failure. */
  addBackend(name: string): void {
    this.ejections.inc({ backend: name }, 0);
  }

  /** Drop every series of a backend that left the pool. */
  async removeBackend(name: string): Promise<void> {
    await removeBackendSeries(this.ejections, name);
    await removeBackendSeries(this.retries, name);
  }
}
