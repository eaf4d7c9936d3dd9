/**
 * Removing every series of one backend from a prom-client metric.
 *
 * prom-client's `remove(labels)` only deletes the series whose label set is exactly `labels`;
 * a metric with more labels than `backend` (code, method, strategy, reason) keeps every series
 * when given `{backend}` alone. This looks the series up and removes each one by its full set.
 *
 * @module
 */

/** The part of a prom-client metric this needs. */
interface LabelledMetric {
  get(): Promise<{ values: { labels: Record<string, string | number | undefined> }[] }>;
  remove(labels: Record<string, string | number>): void;
}

/**
 * Remove every series of `metric` whose `backend` label is `name`.
 *
 * @example
 * ```ts
 * import { Counter, Registry } from "prom-client";
 * import { removeBackendSeries } from "./series.ts";
 * const c = new Counter({ name: "x", help: "x", labelNames: ["backend", "code"], registers: [new Registry()] });
 * c.inc({ backend: "a", code: "200" });
 * await removeBackendSeries(c, "a");
 * ```
 */
export async function removeBackendSeries(metric: LabelledMetric, name: string): Promise<void> {
  const { values } = await metric.get();
  const seen = new Set<string>();
  for (const { labels } of values) {
    if (labels.backend !== name) continue;
    // Histograms report one value per bucket (`le`) and `_sum`/`_count`; the series is the rest.
    const { le: _le, ...series } = labels;
    const key = JSON.stringify(series);
    if (seen.has(key)) continue;
    seen.add(key);
    metric.remove(series as Record<string, string | number>);
  }
}
