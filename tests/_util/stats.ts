/**
 * Sample statistics for tests that check measured distributions against what was asked for.
 *
 * @module
 */

/** Arithmetic mean. */
export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Sample standard deviation (n - 1). */
export function stddev(values: readonly number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1));
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Sample skewness: positive for a long right tail. */
export function skewness(values: readonly number[]): number {
  const m = mean(values);
  const s = stddev(values);
  return values.reduce((sum, v) => sum + ((v - m) / s) ** 3, 0) / values.length;
}
