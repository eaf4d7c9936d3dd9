/**
 * A service's server-reported load and `prequal` probing: the latest load report per backend, the
 * probe pool, the prober that fills it, and their metrics, wired together for one service.
 *
 * @module
 */

import type { ServiceConfig } from "../config/mod.ts";
import type { LoadMetrics, ReportedRow, ServiceLoadMetrics } from "../metrics/mod.ts";
import { LoadReports, type Pool, ProbePool, Prober, reuseLimit } from "../pool/mod.ts";
import { reportedUtilization } from "../upstream/mod.ts";

/** The parts {@linkcode reportedLoad} builds. */
export interface ReportedLoadParts {
  readonly loads: LoadReports;
  readonly loadMetrics: ServiceLoadMetrics;
  readonly probes: ProbePool;
  readonly prober: Prober;
}

/** What the parts share with the rest of the process. */
export interface ReportedLoadRuntime {
  readonly now: () => number;
  readonly random: () => number;
  readonly loads: LoadMetrics;
}

/** Build the reported-load parts of service `config.name` over `pool`. */
export function reportedLoad(pool: Pool, config: ServiceConfig, rt: ReportedLoadRuntime): ReportedLoadParts {
  const { now } = rt;
  const loads = new LoadReports({ now, onReport: (b, error) => loadMetrics.report(b.name, !error) });
  const loadMetrics = rt.loads.service(config.name, () =>
    pool.all().flatMap((b): ReportedRow[] => {
      const latest = loads.get(b);
      if (!latest) return [];
      const ageSeconds = Math.max(0, now() - latest.at) / 1_000;
      return [{ backend: b.name, utilization: reportedUtilization(latest.report), ageSeconds }];
    }));
  const { prequal } = config;
  const probes = new ProbePool({
    size: prequal.poolSize,
    maxAgeMs: prequal.maxAgeMs,
    reuse: reuseLimit(prequal),
  }, now);
  const prober = new Prober({
    pool,
    probes,
    loads,
    counters: loadMetrics,
    config: prequal,
    healthCheck: config.healthCheck,
    now,
    random: rt.random,
  });
  return { loads, loadMetrics, probes, prober };
}
