/**
 * Removing every series of one backend (or one service) from a prom-client metric.
 *
 * prom-client's `remove(labels)` only deletes the series whose label set is exactly `labels`;
 * a metric with more labels (code, method, strategy, reason) keeps every series when given
 * `{backend}` alone. This looks the series up and removes each one by its full set.
 *
 * @module
 */

/** The part of a prom-client metric this needs. */
interface LabelledMetric {
  get(): Promise<{ values: { labels: Record<string, string | number | undefined> }[] }>;
  remove(labels: Record<string, string | number>): void;
}

/**
 * Remove every series of `metric` whose labels include all of `match`.
 *
 * @example
 * ```ts
 * import { Counter, Registry } from "prom-client";
 * import { removeSeries } from "./series.ts";
 * const c = new Counter({ name: "x", help: "x", labelNames: ["service", "backend", "code"], registers: [new Registry()] });
 * c.inc({ service: "web", backend: "a", code: "200" });
 * await removeSeries(c, { service: "web", backend: "a" });
 * ```
 */
export async function removeSeries(
  metric: LabelledMetric,
  match: Readonly<Record<string, string>>,
): Promise<void> {
  const { values } = await metric.get();
  const seen = new Set<string>();
  const wanted = Object.entries(match);
  for (const { labels } of values) {
    if (!wanted.every(([k, v]) => labels[k] === v)) continue;
    // Histograms report one value per bucket (`le`) and `_sum`/`_count`; the series is the rest.
    const { le: _le, ...series } = labels;
    const key = JSON.stringify(series);
    if (seen.has(key)) continue;
    seen.add(key);
    metric.remove(series as Record<string, string | number>);
  }
}
