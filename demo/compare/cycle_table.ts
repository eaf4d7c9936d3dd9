/**
 * Plain-text tables for the strategy cycle: one block per finished period, and a final table
 * with one row per strategy so the strategies read side by side.
 *
 * @module
 */

import type { BackendStatus } from "../../lib/admin/mod.ts";
import type { CyclePeriod } from "./cycle_period.ts";

function ms(v: number | null): string {
  return v === null ? "-" : v < 10 ? `${v.toFixed(2)}ms` : `${v.toFixed(0)}ms`;
}

function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

/** Requests per second and error ratio over every backend of a period. */
function totals(backends: readonly BackendStatus[]): { rate: number; errorRatio: number } {
  const rate = backends.reduce((n, b) => n + b.rate, 0);
  const requests = backends.reduce((n, b) => n + b.requests, 0);
  const errors = backends.reduce((n, b) => n + b.error_ratio * b.requests, 0);
  return { rate, errorRatio: requests ? errors / requests : 0 };
}

/**
 * One finished period: the totals, then one line per backend.
 *
 * @example
 * ```ts ignore
 * console.log(formatPeriod({ service: "web", strategy: "round_robin", report }));
 * ```
 */
export function formatPeriod(period: CyclePeriod): string {
  const { rate, errorRatio } = totals(period.report.backends);
  const lines = [
    `  ${period.strategy} over the last ${period.report.window_seconds}s: ${rate.toFixed(1)} req/s, ${
      pct(errorRatio)
    } errors`,
  ];
  for (const b of period.report.backends) {
    lines.push(
      `    ${b.name.padEnd(12)} ${b.state.padEnd(9)} share ${pct(b.share).padStart(6)}  ${
        b.rate.toFixed(1).padStart(7)
      } req/s  p50 ${ms(b.p50).padStart(7)}  p99 ${ms(b.p99).padStart(7)}  errors ${pct(b.error_ratio)}`,
    );
  }
  return lines.join("\n");
}

/**
 * The last period of each strategy as one row: totals, then share and p99 of every backend. The
 * heading names the service (the periods' first; a cycle runs on one).
 *
 * @example
 * ```ts ignore
 * console.log(formatComparison(result.periods));
 * ```
 */
export function formatComparison(periods: readonly CyclePeriod[]): string {
  const last = new Map<string, CyclePeriod>();
  for (const p of periods) last.set(p.strategy, p);
  const names = [...new Set(periods.flatMap((p) => p.report.backends.map((b) => b.name)))];
  const header = ["strategy", "req/s", "errors", ...names.flatMap((n) => [`${n} share`, `${n} p99`])];
  const rows = [...last.values()].map(({ strategy, report }) => {
    const { rate, errorRatio } = totals(report.backends);
    const cells = names.flatMap((n) => {
      const b = report.backends.find((x) => x.name === n);
      return b ? [pct(b.share), ms(b.p99)] : ["-", "-"];
    });
    return [strategy, rate.toFixed(1), pct(errorRatio), ...cells];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const heading = `${periods[0]?.service ?? "?"}: side by side (last period of each strategy):`;
  return [heading, line(header), ...rows.map(line)].join("\n");
}
