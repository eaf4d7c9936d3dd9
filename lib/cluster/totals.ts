/**
 * Numbers the admin API shows summed over every isolate: each worker reports its backends'
 * counts and its stats windows, and the owner adds them to its own. Like the merged `/metrics`
 * (lib/metrics/merge.ts), the sums never go backwards: a worker that does not answer in time
 * counts with its last report, and one that ended leaves its last request counts behind.
 *
 * @module
 */

import { type AdminTotals, type BackendCounts, countsKey, isolateStatus } from "../admin/mod.ts";
import { StatsWindow } from "../metrics/mod.ts";
import type { ServiceSet } from "../service/mod.ts";
import type { WorkerReport } from "./protocol.ts";

/** A worker's report on its services (`unrouted`: its window of requests no route matched). */
export function reportOf(
  services: ServiceSet,
  unrouted: StatsWindow,
  worker: number,
  restarts: number,
): WorkerReport {
  return {
    status: isolateStatus(services, worker, restarts),
    backends: services.all().flatMap((s) =>
      [...s.pool.all(), ...s.pool.retiring()].map((b) =>
        [s.name, b.name, b.url, b.inFlight, b.requests, b.errors] as const
      )
    ),
    windows: services.all().map((s) => [s.name, s.stats.dump()] as const),
    unrouted: unrouted.dump(),
  };
}

/** Adds worker reports to the owner's numbers; see the module documentation. */
export class TotalsMerge {
  #last = new Map<number, WorkerReport>();
  /** Requests and errors of ended workers, by `service\0backend\0url`. */
  #retired = new Map<string, [number, number]>();

  /** The last report of every live worker (after {@linkcode TotalsMerge.update}). */
  reports(): WorkerReport[] {
    return [...this.#last.values()];
  }

  /** Take a worker's fresh report, or keep its last one when `report` is undefined. */
  update(worker: number, report: WorkerReport | undefined): void {
    if (report) this.#last.set(worker, report);
  }

  /** Worker `worker` ended: its requests and errors so far stay in the totals. */
  retire(worker: number): void {
    const last = this.#last.get(worker);
    this.#last.delete(worker);
    for (const [service, backend, url, , requests, errors] of last?.backends ?? []) {
      const key = `${countsKey(service, backend)}\0${url}`;
      const r = this.#retired.get(key) ?? [0, 0];
      this.#retired.set(key, [r[0] + requests, r[1] + errors]);
    }
  }

  /** The owner's services and unrouted window plus every worker's last report. */
  totals(services: ServiceSet, unrouted: StatsWindow | undefined, now: () => number): AdminTotals {
    const reports = this.reports();
    const backends = new Map<string, BackendCounts>();
    const urls = new Map<string, string>();
    for (const s of services.all()) {
      for (const b of [...s.pool.all(), ...s.pool.retiring()]) {
        const key = countsKey(s.name, b.name);
        if (urls.has(key)) continue; // the pool's own, not a retiring namesake
        const [requests, errors] = this.#retired.get(`${key}\0${b.url}`) ?? [0, 0];
        urls.set(key, b.url);
        backends.set(key, {
          inFlight: b.inFlight,
          requests: b.requests + requests,
          errors: b.errors + errors,
        });
      }
    }
    for (const r of reports) {
      for (const [service, backend, url, inFlight, requests, errors] of r.backends) {
        const key = countsKey(service, backend);
        const mine = backends.get(key);
        if (!mine || urls.get(key) !== url) continue;
        backends.set(key, {
          inFlight: mine.inFlight + inFlight,
          requests: mine.requests + requests,
          errors: mine.errors + errors,
        });
      }
    }
    const windows = new Map<string, StatsWindow>();
    for (const s of services.all()) {
      const w = new StatsWindow({ now, seconds: s.stats.seconds });
      w.add(s.stats.dump());
      windows.set(s.name, w);
    }
    for (const r of reports) for (const [service, dump] of r.windows) windows.get(service)?.add(dump);
    let merged: StatsWindow | undefined;
    if (unrouted) {
      merged = new StatsWindow({ now, seconds: unrouted.seconds });
      merged.add(unrouted.dump());
      for (const r of reports) merged.add(r.unrouted);
    }
    return { backends, windows, unrouted: merged };
  }
}
