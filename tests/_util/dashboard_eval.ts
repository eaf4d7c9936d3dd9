/**
 * Evaluate every panel and annotation query of the provisioned dashboards in a real Prometheus,
 * the way Grafana would run them, and collect what is wrong.
 *
 * @module
 */

import {
  asPending,
  type DashboardFile,
  emptyByDesign,
  type FoundQuery,
  interpolate,
  queriesOf,
} from "./grafana.ts";
import type { Series, TestPrometheus } from "./prometheus.ts";

/** The time range and Grafana built-ins (`$__rate_interval`, `$__range`, ...) of the evaluation. */
export interface EvalWindow {
  readonly start: number;
  readonly end: number;
  readonly builtins: Readonly<Record<string, string>>;
}

/** What {@linkcode evaluateQueries} found. */
export interface EvalResult {
  /** Queries evaluated (a repeated panel's once per value). */
  readonly checked: number;
  /** Errors, empty or non-finite results, groups missing a value. */
  readonly problems: string[];
  /** Empty results that the panel shows as its `noValue` text (see `emptyByDesign`). */
  readonly empty: string[];
}

/**
 * Evaluate every panel and annotation query (variables are the caller's: it knows their values)
 * with the variables set to `values`; repeated panels once per value of their variable. Each must
 * return series with finite values, or be empty by design; a query whose outermost aggregation is
 * `by` a variable's label, on a panel that has no `noValue`, must show every value of that variable. Queries for which
 * `skip` is true are left out.
 */
export async function evaluateQueries(
  prometheus: TestPrometheus,
  dashboards: readonly DashboardFile[],
  values: Readonly<Record<string, string[]>>,
  window: EvalWindow,
  sampled: Set<string>,
  skip: (q: FoundQuery) => boolean = () => false,
): Promise<EvalResult> {
  const problems: string[] = [];
  const empty: string[] = [];
  let checked = 0;
  const run = (expr: string, instant: boolean) =>
    instant ? prometheus.query(expr, window.end) : prometheus.queryRange(expr, window.start, window.end, 1);
  for (const d of dashboards) {
    for (const q of queriesOf(d)) {
      if (q.where.startsWith("variable: ") || skip(q)) continue;
      const each = q.repeat ? values[q.repeat].map((v) => ({ ...values, [q.repeat!]: [v] })) : [values];
      for (const vars of each) {
        const expr = interpolate(q.expr, vars, window.builtins);
        let series: Series[];
        try {
          series = await run(expr, q.instant);
          // The firing-alert annotation, on the pending alerts (none fires within a test).
          const pending = asPending(expr);
          if (!series.length && pending) series = await run(pending, q.instant);
        } catch (e) {
          problems.push(`${d.file}: ${q.where}: ${(e as Error).message}`);
          continue;
        }
        checked++;
        const finite = series.filter((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
        const designed = series.length ? undefined : emptyByDesign(q, sampled);
        if (designed) empty.push(designed);
        else if (series.length === 0 || finite.length !== series.length) {
          problems.push(`${d.file}: ${q.where}: ${series.length} series, ${finite.length} finite: ${expr}`);
        }
        if (q.noValue !== undefined) continue;
        // The outermost aggregation comes first in every dashboard query: its labels are the result's.
        const by = /by \(([\w, ]+)\)/.exec(q.expr)?.[1].split(", ") ?? [];
        for (const label of Object.keys(values)) {
          if (label === q.repeat || !by.includes(label)) continue;
          const shown = [...new Set(series.map((s) => s.metric[label]))].sort();
          if (JSON.stringify(shown) !== JSON.stringify(vars[label])) {
            problems.push(`${d.file}: ${q.where}: shows ${label} ${shown}, expected ${vars[label]}`);
          }
        }
      }
    }
  }
  return { checked, problems, empty };
}
