/**
 * Hostile inputs shared by tests.
 *
 * @module
 */

/** The YAML "billion laughs": nine levels of nine aliases each, 9^9 nodes if expanded. */
export function billionLaughs(): string {
  const lines = ['a0: &a0 ["lol"]'];
  for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(", ")}]`);
  return lines.join("\n") + "\nbackends: *a9\n";
}
