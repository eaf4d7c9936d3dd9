/**
 * Go-style durations ("250ms", "5s", "1m", "1h30m", "1.5s") for flags, environment and config.
 *
 * Operators already write durations this way for the Go tools this project replaces, so the
 * same spelling keeps working. Durations here are lengths of time: a sign is rejected rather than
 * producing a negative timeout somewhere downstream.
 *
 * @module
 */

/** Milliseconds per unit, as Go's `time.ParseDuration` accepts them (both micro signs included). */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3, // U+00B5 micro sign
  "μs": 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** One "<number><unit>" component. `matchAll` clones it, so its `lastIndex` is never shared. */
const COMPONENT = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
/** The whole text: one or more components and nothing else. */
const WHOLE = /^(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;

/**
 * Parse a Go-style duration into milliseconds.
 *
 * Accepts one or more `<number><unit>` components (units ns, us/µs, ms, s, m, h; decimals
 * allowed) or a bare `0`. Returns undefined for anything else, including empty text, a missing
 * unit ("250") or a sign, so the caller can name the offending flag or key in its own message.
 *
 * @param text The duration as written, e.g. "1h30m".
 * @returns The duration in milliseconds (may be fractional), or undefined when `text` is not one.
 *
 * @example Usage
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("1h30m"); // 5_400_000
 * parseDuration("250ms"); // 250
 * parseDuration("1.5s"); // 1_500
 * parseDuration("250"); // undefined: a unit is required
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  if (!WHOLE.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(COMPONENT)) total += Number(match[1]) * UNIT_MS[match[2]];
  return Number.isFinite(total) ? total : undefined;
}

/**
 * Format milliseconds as a compact Go-style duration that {@linkcode parseDuration} reads back.
 *
 * Whole hours and minutes are split out ("1h30m", "2m5s"); below a second the largest unit that
 * keeps the number at least 1 is used ("250ms", "1.5ms", "300µs"). Zero is "0s". The value is
 * rounded to the nanosecond first so float noise does not leak into the text.
 *
 * @param ms The duration in milliseconds; negative values get a leading "-".
 * @returns The formatted duration.
 *
 * @example Usage
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * formatDuration(5_400_000); // "1h30m"
 * formatDuration(1_500); // "1.5s"
 * formatDuration(0.3); // "300µs"
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  const ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  if (ns < 1e9) {
    if (ns >= 1e6) return `${trim(ns / 1e6)}ms`;
    if (ns >= 1e3) return `${trim(ns / 1e3)}µs`;
    return `${ns}ns`;
  }
  const hours = Math.floor(ns / 3.6e12);
  const minutes = Math.floor((ns % 3.6e12) / 6e10);
  const seconds = (ns % 6e10) / 1e9;
  return (hours ? `${hours}h` : "") + (minutes ? `${minutes}m` : "") + (seconds ? `${trim(seconds)}s` : "");
}

/** Up to nine decimals without trailing zeros: enough to keep every nanosecond. */
function trim(value: number): string {
  return String(Number(value.toFixed(9)));
}
