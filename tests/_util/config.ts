/**
 * Config parsing for tests: the config a valid text yields, or the errors an invalid one gets.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Config, parseConfig, type ParseOptions } from "../../lib/config/config.ts";

/** The config `text` parses to; throws with every error when it is invalid. */
export function configOf(text: string, options?: ParseOptions): Config {
  const r = parseConfig(text, options);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

/** The errors `text` gets; fails the test when it parses. */
export function errorsOf(text: string, options?: ParseOptions): string[] {
  const r = parseConfig(text, options);
  assert.equal(r.ok, false, "expected errors");
  return r.ok ? [] : r.errors;
}
