/**
 * The median the benchmark reports per target (its own module, so the report and its sections
 * share it without importing each other).
 *
 * @module
 */

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
