/**
 * Metrics of server-reported load (ORCA `Endpoint-Load-Metrics`) and of `prequal`'s probes.
 * Registered on the process's one registry next to `Metrics`; each service records through a
 * {@linkcode ServiceLoadMetrics} view bound to its `service` label. The two gauges are read from
 * the service's reports at scrape time, so they never drift from what the admin API shows.
 *
 * @module
 */

import { Counter, Gauge, type Registry } from "prom-client";
import { removeSeries } from "./series.ts";

/** One backend's latest report as the gauges read it at scrape time. */
export interface ReportedRow {
  readonly backend: string;
  /** `application_utilization` when positive, else `cpu_utilization`; undefined when neither. */
  readonly utilization: number | undefined;
  /** Age of the latest valid report in seconds. */
  readonly ageSeconds: number;
}

/** Why a probe that was due was not sent. */
export type ProbeSkip = "budget" | "busy";

/** Load-report and probe metrics of one proxy instance. */
export class LoadMetrics {
  readonly utilization: Gauge<"service" | "backend">;
  readonly age: Gauge<"service" | "backend">;
  readonly reports: Counter<"service" | "backend" | "result">;
  readonly probes: Counter<"service" | "backend" | "result">;
  readonly skipped: Counter<"service" | "reason">;
  #rows = new Map<string, () => readonly ReportedRow[]>();

  /** Create and register the metrics. */
  constructor(registry: Registry) {
    const registers = [registry];
    const services = () => this.#rows;
    this.utilization = new Gauge({
      name: "lb_backend_reported_utilization",
      help:
        "Utilization the backend reported in its latest Endpoint-Load-Metrics header: application_utilization when positive, else cpu_utilization.",
      labelNames: ["service", "backend"],
      registers,
      // Each isolate keeps its own latest report (workers > 1): merged, the owner isolate's, as the
      // other per-backend state gauges; a sum would count one backend's figure once per isolate.
      aggregator: "first",
      collect() {
        this.reset();
        for (const [service, rows] of services()) {
          for (const r of rows()) {
            if (r.utilization !== undefined) this.set({ service, backend: r.backend }, r.utilization);
          }
        }
      },
    });
    this.age = new Gauge({
      name: "lb_backend_report_age_seconds",
      help: "Seconds since the backend's latest valid Endpoint-Load-Metrics header arrived.",
      labelNames: ["service", "backend"],
      registers,
      // Each isolate keeps its own latest report (workers > 1): merged, the owner isolate's, as the
      // other per-backend state gauges; a sum would count one backend's figure once per isolate.
      aggregator: "first",
      collect() {
        this.reset();
        for (const [service, rows] of services()) {
          for (const r of rows()) this.set({ service, backend: r.backend }, r.ageSeconds);
        }
      },
    });
    this.reports = new Counter({
      name: "lb_load_reports_total",
      help: "Endpoint-Load-Metrics headers received from backends, valid or invalid (ignored).",
      labelNames: ["service", "backend", "result"],
      registers,
    });
    this.probes = new Counter({
      name: "lb_probes_total",
      help: "Probes sent for the prequal strategy, by result: success or failure.",
      labelNames: ["service", "backend", "result"],
      registers,
    });
    this.skipped = new Counter({
      name: "lb_probes_skipped_total",
      help:
        "Probes that were due but not sent: budget (prequal.max_probe_share reached) or busy (every eligible backend already had a probe in flight).",
      labelNames: ["service", "reason"],
      registers,
    });
  }

  /** The view through which `service` records; `rows` is read at every scrape. */
  service(service: string, rows: () => readonly ReportedRow[]): ServiceLoadMetrics {
    this.#rows.set(service, rows);
    for (const reason of ["budget", "busy"]) this.skipped.inc({ service, reason }, 0);
    return new ServiceLoadMetrics(this, service);
  }

  /** Drop every series of a service that is gone. */
  async removeService(service: string): Promise<void> {
    this.#rows.delete(service);
    for (const m of [this.reports, this.probes, this.skipped]) await removeSeries(m, { service });
  }
}

/** The load-report and probe metrics of one service. */
export class ServiceLoadMetrics {
  readonly service: string;
  readonly #m: LoadMetrics;

  constructor(metrics: LoadMetrics, service: string) {
    this.#m = metrics;
    this.service = service;
  }

  /** Create a backend's counters at zero, so dashboards see it before its first report. */
  addBackend(backend: string): void {
    const { service } = this;
    for (const result of ["valid", "invalid"]) this.#m.reports.inc({ service, backend, result }, 0);
    for (const result of ["success", "failure"]) this.#m.probes.inc({ service, backend, result }, 0);
  }

  /** Drop every series of a backend that left the pool. */
  async removeBackend(backend: string): Promise<void> {
    for (const m of [this.#m.reports, this.#m.probes]) {
      await removeSeries(m, { service: this.service, backend });
    }
  }

  /** Count one load report header from `backend`. */
  report(backend: string, valid: boolean): void {
    this.#m.reports.inc({ service: this.service, backend, result: valid ? "valid" : "invalid" });
  }

  /** Count one probe answer (or failure) from `backend`. */
  probe(backend: string, ok: boolean): void {
    this.#m.probes.inc({ service: this.service, backend, result: ok ? "success" : "failure" });
  }

  /** Count one probe that was due but not sent. */
  skipped(reason: ProbeSkip): void {
    this.#m.skipped.inc({ service: this.service, reason });
  }
}
