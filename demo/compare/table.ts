/**
 * The per-scenario results table, as aligned text for the terminal and as a markdown table for
 * the report: the same cells either way.
 *
 * @module
 */

import { formatFigure, formatPercent, formatRate, PERCENTILES, type Row } from "./figures.ts";

/** Column headers and one row of cells per strategy. */
export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/**
 * The cells: strategy, achieved rate, p50, p90, p99, p99.9 (ms), errors, share per backend.
 *
 * @param rows One row per strategy, in the order to show.
 * @param backends Backend names in scenario order.
 */
export function resultTable(rows: readonly Row[], backends: readonly string[]): Table {
  return {
    header: [
      "strategy",
      "req/s",
      ...PERCENTILES.map((p) => `${p.label} ms`),
      "errors",
      ...backends.map((b) => `${b} share`),
    ],
    rows: rows.map((r) => [
      r.strategy,
      formatRate(r.achievedRate),
      ...PERCENTILES.map((p) => formatFigure(r[p.key])),
      formatPercent(r.errorRate),
      ...backends.map((b) => formatPercent(r.shares[b])),
    ]),
  };
}

/**
 * Aligned plain text: the first column left-aligned, numbers right-aligned.
 *
 * @example Usage
 * ```ts
 * import { formatTextTable } from "./table.ts";
 * formatTextTable({ header: ["strategy", "p99 ms"], rows: [["round_robin", "108"]] });
 * // "strategy     p99 ms\nround_robin     108"
 * ```
 */
export function formatTextTable(table: Table): string {
  const all = [table.header, ...table.rows];
  const widths = table.header.map((_, i) => Math.max(...all.map((r) => [...r[i]].length)));
  const pad = (cell: string, i: number) => {
    const fill = " ".repeat(widths[i] - [...cell].length);
    return i === 0 ? cell + fill : fill + cell;
  };
  return all.map((r) => r.map(pad).join("  ").trimEnd()).join("\n");
}

/**
 * A markdown table with numeric columns right-aligned.
 *
 * @example Usage
 * ```ts
 * import { formatMarkdownTable } from "./table.ts";
 * formatMarkdownTable({ header: ["strategy", "p99 ms"], rows: [["round_robin", "108"]] });
 * // "| strategy | p99 ms |\n| --- | ---: |\n| round_robin | 108 |"
 * ```
 */
export function formatMarkdownTable(table: Table): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const align = table.header.map((_, i) => (i === 0 ? "---" : "---:"));
  return [line(table.header), line(align), ...table.rows.map(line)].join("\n");
}
