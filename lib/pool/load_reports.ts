/**
 * The latest load report (ORCA `Endpoint-Load-Metrics`) of each backend, with when it arrived.
 *
 * Reports come with responses to requests and with probe answers; whichever arrived last is the
 * backend's report. An invalid header is ignored (the previous report stays, ageing) and counted,
 * so a backend that sends garbage shows in the metrics instead of silently feeding a strategy
 * wrong numbers. Kept per backend object, like the health checker's counters: a backend replaced
 * by a reload starts without a report.
 *
 * @module
 */

import { type LoadReport, parseLoadReport } from "../upstream/mod.ts";
import type { Backend } from "./backend.ts";

/** A backend's latest valid report and when it arrived (the injected clock, in ms). */
export interface ReportedLoad {
  readonly report: LoadReport;
  readonly at: number;
}

/** Options for {@linkcode LoadReports}. */
export interface LoadReportsOptions {
  /** Monotonic clock in ms. */
  readonly now: () => number;
  /** Told of every header seen: valid or not, and why not (for metrics). @default nothing */
  readonly onReport?: (backend: Backend, error: string | undefined) => void;
}

/** The latest report per backend; see the module documentation. */
export class LoadReports {
  #latest = new WeakMap<Backend, ReportedLoad>();
  #now: () => number;
  #onReport: LoadReportsOptions["onReport"];

  constructor(options: LoadReportsOptions) {
    this.#now = options.now;
    this.#onReport = options.onReport;
  }

  /**
   * Read one `Endpoint-Load-Metrics` value from `backend`: keep it when valid.
   *
   * @returns the report, or undefined when the header was invalid (the old report stays)
   */
  record(backend: Backend, value: string): LoadReport | undefined {
    const parsed = parseLoadReport(value);
    this.#onReport?.(backend, parsed.ok ? undefined : parsed.error);
    if (!parsed.ok) return undefined;
    this.#latest.set(backend, { report: parsed.report, at: this.#now() });
    return parsed.report;
  }

  /** The backend's latest valid report, or undefined when none arrived. */
  get(backend: Backend): ReportedLoad | undefined {
    return this.#latest.get(backend);
  }

  /** How old the backend's latest report is, in ms; undefined without one. */
  ageOf(backend: Backend): number | undefined {
    const latest = this.#latest.get(backend);
    return latest && Math.max(0, this.#now() - latest.at);
  }
}
