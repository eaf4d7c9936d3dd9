/**
 * Human-readable text for load runs: the live progress line and the final summary.
 *
 * @module
 */

import { formatDuration } from "../../lib/config/mod.ts";
import type { Summary } from "./summary.ts";
import type { Progress } from "./progress.ts";
import { ERROR_KINDS } from "./errors.ts";

/** One progress line, e.g. `12.0s  sent 1200  ok 1198  199.8/s  p99 23.4ms  errors 0`. */
export function formatProgress(progress: Progress): string {
  return [
    `${(progress.elapsedMs / 1_000).toFixed(1)}s`,
    `sent ${progress.sent}`,
    `done ${progress.completed}`,
    `${progress.rate.toFixed(1)}/s`,
    `p99 ${ms(progress.p99Ms)}`,
    `errors ${progress.errors}`,
  ].join("  ");
}

/**
 * The summary as aligned text: what was asked, what was achieved, latency percentiles, status
 * codes, errors by kind and the share of each backend.
 *
 * @example Usage
 * ```ts
 * import { formatSummary } from "./report.ts";
 * import { runLoad } from "./load.ts";
 * console.log(formatSummary(await runLoad({ url: "http://127.0.0.1:8081/", durationMs: 1_000 })));
 * ```
 */
export function formatSummary(s: Summary): string {
  const window = formatDuration(s.durationMs ?? Math.round(s.windowMs));
  const lines = [
    `target      ${s.method} ${s.url}`,
    `load        ${s.clients} clients x ${s.ratePerClient}/s = ${s.targetRate}/s for ${window} (seed ${s.seed})`,
    `requests    scheduled ${s.scheduled}  sent ${s.sent}  completed ${s.completed}  failed ${s.failed}` +
    (s.unsent ? `  unsent ${s.unsent}` : "") + (s.cancelled ? `  cancelled ${s.cancelled}` : ""),
    `rate        sent ${s.sendRate.toFixed(1)}/s  completed ${s.achievedRate.toFixed(1)}/s` +
    `  in ${formatDuration(Math.round(s.elapsedMs))}`,
  ];
  const l = s.latencyMs;
  lines.push(
    l
      ? `latency     p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${
        ms(l.max)
      }` +
        `  mean ${ms(l.mean)}`
      : "latency     no responses",
  );
  lines.push(`status      ${entries(s.statuses) || "none"}`);
  const errors = ERROR_KINDS.filter((kind) => s.errors[kind] > 0).map((kind) => `${kind} ${s.errors[kind]}`);
  lines.push(`errors      ${errors.join("  ") || "none"}  (error rate ${(s.errorRate * 100).toFixed(2)}%)`);
  const total = Object.values(s.backends).reduce((sum, n) => sum + n, 0);
  const shares = Object.entries(s.backends)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${name} ${n} (${((n / total) * 100).toFixed(1)}%)`);
  lines.push(`backends    ${shares.join("  ") || "unknown"}`);
  if (Object.keys(s.addresses).length > 0 || s.retries.total > 0) {
    lines.push(
      `failover    retried ${s.retries.total} (${entries(s.retries.reasons) || "none"}), recovered ` +
        `${s.retries.recovered}; answered by ${entries(s.addresses) || "none"}`,
    );
  }
  return lines.join("\n");
}

/** Milliseconds with precision that suits the size. */
function ms(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : Math.round(value)}ms`;
}

/** `key count` pairs in key order. */
function entries(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(
    "  ",
  );
}
