/**
 * Go-style durations ("250ms", "5s", "1m30s", "1h"), the format of every duration in config and
 * on command lines.
 *
 * @module
 */

const UNITS: Readonly<Record<string, number>> = {
  us: 0.001,
  "µs": 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/y;

/**
 * Parse a Go-style duration into milliseconds.
 *
 * A bare `0` is accepted; any other number needs a unit so that "5" is never silently read as
 * milliseconds or seconds.
 *
 * @returns milliseconds, or undefined when `text` is not a duration.
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("1m30s"); // 90000
 * parseDuration("250ms"); // 250
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "0") return 0;
  if (s === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== start) return undefined;
    total += Number(m[1]) * UNITS[m[2]];
  }
  return Number.isFinite(total) ? total : undefined;
}

/**
 * Format milliseconds as a short Go-style duration.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * formatDuration(90000); // "1m30s"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${+ms.toFixed(3)}ms`;
  let rest = ms;
  let out = "";
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000]] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  if (rest > 0) out += `${+(rest / 1000).toFixed(3)}s`;
  return out;
}
