/**
 * Metrics of the resilience features: retries, the retry budget, hedged requests, ejections, the
 * wait queue and config reloads (their count and whether the last one succeeded). Registered on the
 * process's one registry next to `Metrics`; each service records through a
 * {@linkcode ServiceResilienceMetrics} view bound to its `service` label.
 *
 * @module
 */

import { Counter, Gauge, type Registry } from "prom-client";
import { removeSeries } from "./series.ts";

/** Resilience metrics of one proxy instance. */
export class ResilienceMetrics {
  readonly retries: Counter<"service" | "backend" | "reason">;
  readonly budgetExhausted: Counter<"service">;
  readonly ejections: Counter<"service" | "backend">;
  readonly queued: Gauge<"service">;
  readonly queueRejected: Counter<"service" | "reason">;
  readonly reloads: Counter<"result">;
  /** 1 while the last reload succeeded (or none was tried), 0 after a failed one. */
  readonly lastReloadSuccessful: Gauge;
  readonly hedges: Counter<"service">;
  readonly hedgesWon: Counter<"service">;
  readonly hedgesLost: Counter<"service">;
  readonly hedgeBudgetExhausted: Counter<"service">;
  #queues = new Map<string, () => number>();

  /** Create and register the metrics. */
  constructor(registry: Registry) {
    const registers = [registry];
    const queues = () => this.#queues;
    this.retries = new Counter({
      name: "lb_retries_total",
      help:
        "Retries sent, by service, the backend whose attempt failed and the reason (connect_failure, reset, timeout or the status code).",
      labelNames: ["service", "backend", "reason"],
      registers,
    });
    this.budgetExhausted = new Counter({
      name: "lb_retry_budget_exhausted_total",
      help: "Retries not sent because the service's retry budget was spent.",
      labelNames: ["service"],
      registers,
    });
    this.ejections = new Counter({
      name: "lb_ejections_total",
      help: "Backends ejected by passive health (consecutive failed requests).",
      labelNames: ["service", "backend"],
      registers,
    });
    this.queued = new Gauge({
      name: "lb_queued_requests",
      help: "Requests waiting because every healthy backend of the service is at max_connections.",
      labelNames: ["service"],
      registers,
      // Read at scrape time, so the gauge cannot drift from the queue.
      collect() {
        this.reset();
        for (const [service, length] of queues()) this.set({ service }, length());
      },
    });
    this.queueRejected = new Counter({
      name: "lb_queue_rejected_total",
      help: "Requests answered 503 by the wait queue: full or timeout.",
      labelNames: ["service", "reason"],
      registers,
    });
    this.reloads = new Counter({
      name: "lb_config_reloads_total",
      help: "Config reloads (SIGHUP or POST /api/reload) by result.",
      labelNames: ["result"],
      registers,
    });
    for (const result of ["success", "failure"]) this.reloads.inc({ result }, 0);
    this.hedges = new Counter({
      name: "lb_hedges_total",
      help:
        "Hedges sent: second attempts of idempotent requests that had no response headers after hedging.delay.",
      labelNames: ["service"],
      registers,
    });
    this.hedgesWon = new Counter({
      name: "lb_hedges_won_total",
      help: "Hedges whose response headers came first and were relayed; the first attempt was cancelled.",
      labelNames: ["service"],
      registers,
    });
    this.hedgesLost = new Counter({
      name: "lb_hedges_lost_total",
      help:
        "Hedges not relayed: the first attempt answered first (the hedge was cancelled), or neither answered.",
      labelNames: ["service"],
      registers,
    });
    this.hedgeBudgetExhausted = new Counter({
      name: "lb_hedge_budget_exhausted_total",
      help: "Hedges not sent because the service's hedging.max_ratio budget was spent.",
      labelNames: ["service"],
      registers,
    });

    // A state, not a count: a failure stays visible until a reload succeeds, however long ago it
    // was (Prometheus' own prometheus_config_last_reload_successful). The config the process
    // started with was valid, so it starts at 1.
    this.lastReloadSuccessful = new Gauge({
      name: "lb_config_last_reload_successful",
      help: "1 when the last config reload succeeded (or none was tried yet), 0 when it failed.",
      registers,
      // The owner reloads (workers > 1); merged, its value is the one, never a sum over isolates.
      aggregator: "first",
    });
    this.lastReloadSuccessful.set(1);
  }

  /** Record a reload's result in `lb_config_reloads_total` and `lb_config_last_reload_successful`. */
  reloaded(ok: boolean): void {
    this.reloads.inc({ result: ok ? "success" : "failure" });
    this.lastReloadSuccessful.set(ok ? 1 : 0);
  }

  /** The view through which `service` records; `queueLength` is read at every scrape. */
  service(service: string, queueLength: () => number): ServiceResilienceMetrics {
    this.#queues.set(service, queueLength);
    for (const reason of ["full", "timeout"]) this.queueRejected.inc({ service, reason }, 0);
    this.budgetExhausted.inc({ service }, 0);
    for (const m of [this.hedges, this.hedgesWon, this.hedgesLost, this.hedgeBudgetExhausted]) {
      m.inc({ service }, 0);
    }
    return new ServiceResilienceMetrics(this, service);
  }

  /** Drop every series of a service that is gone. */
  async removeService(service: string): Promise<void> {
    this.#queues.delete(service);
    const hedging = [this.hedges, this.hedgesWon, this.hedgesLost, this.hedgeBudgetExhausted];
    for (const m of [this.retries, this.budgetExhausted, this.ejections, this.queueRejected, ...hedging]) {
      await removeSeries(m, { service });
    }
  }
}

/** The resilience metrics of one service. */
export class ServiceResilienceMetrics {
  readonly service: string;
  readonly #m: ResilienceMetrics;

  constructor(metrics: ResilienceMetrics, service: string) {
    this.#m = metrics;
    this.service = service;
  }

  /** Create a backend's series at zero so dashboards see it before its first failure. */
  addBackend(backend: string): void {
    this.#m.ejections.inc({ service: this.service, backend }, 0);
  }

  /** Drop every series of a backend that left the pool. */
  async removeBackend(backend: string): Promise<void> {
    await removeSeries(this.#m.ejections, { service: this.service, backend });
    await removeSeries(this.#m.retries, { service: this.service, backend });
  }

  /** Count a retry of an attempt on `backend` that failed for `reason`. */
  retried(backend: string, reason: string): void {
    this.#m.retries.inc({ service: this.service, backend, reason });
  }

  /** Count a failed attempt not retried because the budget was spent. */
  budgetExhausted(): void {
    this.#m.budgetExhausted.inc({ service: this.service });
  }

  /** Count a hedge sent. */
  hedged(): void {
    this.#m.hedges.inc({ service: this.service });
  }

  /** Count a hedge's end: `won` when its response was relayed, else lost. */
  hedgeEnded(won: boolean): void {
    (won ? this.#m.hedgesWon : this.#m.hedgesLost).inc({ service: this.service });
  }

  /** Count a hedge not sent because the hedging budget was spent. */
  hedgeBudgetExhausted(): void {
    this.#m.hedgeBudgetExhausted.inc({ service: this.service });
  }

  /** Count a passive-health ejection. */
  ejected(backend: string): void {
    this.#m.ejections.inc({ service: this.service, backend });
  }

  /** Count a request the wait queue answered 503. */
  queueRejected(reason: "full" | "timeout"): void {
    this.#m.queueRejected.inc({ service: this.service, reason });
  }
}
