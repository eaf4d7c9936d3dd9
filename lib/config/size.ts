/**
 * Byte sizes in config: an integer number of bytes or a number with a binary unit
 * ("64KiB", "1MiB", "512B"). Decimal units ("64KB") are refused rather than guessed at, so
 * nobody has to wonder whether a kilobyte is 1000 or 1024 bytes.
 *
 * @module
 */

const UNITS: Readonly<Record<string, number>> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/**
 * Parse a size into bytes.
 *
 * @returns bytes, or undefined when `value` is neither a non-negative integer nor `<n><unit>`.
 * @example
 * ```ts
 * import { parseSize } from "./size.ts";
 * parseSize("64KiB"); // 65536
 * parseSize(1000); // 1000
 * ```
 */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?\s*$/.exec(value);
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNITS[m[2] ?? "B"];
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * Format bytes with the largest binary unit that divides them exactly.
 *
 * @example
 * ```ts
 * import { formatSize } from "./size.ts";
 * formatSize(65536); // "64KiB"
 * ```
 */
export function formatSize(bytes: number): string {
  for (const unit of ["GiB", "MiB", "KiB"]) {
    const size = UNITS[unit];
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
