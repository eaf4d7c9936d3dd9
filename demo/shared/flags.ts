/**
 * Command-line and environment parsing shared by the demo tools.
 *
 * Flags win over environment variables (`--latency` over `BACKEND_LATENCY`) so one container
 * image can be configured by compose and still overridden by hand. Problems are collected as
 * messages rather than thrown, so a tool reports every bad flag at once and exits 2.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseDuration } from "../../lib/config/mod.ts";

/** A parse result: the value, or every problem found. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** Raw flag values by name: a string, a list for repeatable flags, true for switches. */
export type RawFlags = Record<string, string | string[] | boolean | undefined>;

/** The flags a tool accepts: `"string"` or `"boolean"`, and whether a string flag may repeat. */
export type FlagSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean }>;

/**
 * Read flags from `args`, falling back to `<envPrefix>_<FLAG>` variables for single-valued flags.
 *
 * @param args Command-line arguments (without the program name).
 * @param spec Accepted flags.
 * @param env Variable lookup, e.g. `(n) => Deno.env.get(n)`; the name is upper snake case.
 * @param envPrefix Prefix for variable names, e.g. "BACKEND" reads `BACKEND_ERROR_RATE` for `--error-rate`.
 * @returns The raw values, or the parser's complaint (unknown flag, missing value).
 */
export function readFlags(
  args: string[],
  spec: FlagSpec,
  env: (name: string) => string | undefined,
  envPrefix: string,
): Parsed<RawFlags> {
  let values: RawFlags;
  try {
    values = parseArgs({ args, options: spec, strict: true, allowPositionals: false }).values as RawFlags;
  } catch (error) {
    return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
  }
  for (const [name, { type, multiple }] of Object.entries(spec)) {
    if (values[name] !== undefined || multiple || name === "help") continue;
    const fromEnv = env(`${envPrefix}_${name.toUpperCase().replaceAll("-", "_")}`);
    if (fromEnv === undefined || fromEnv === "") continue;
    values[name] = type === "boolean" ? ["1", "true", "yes"].includes(fromEnv.toLowerCase()) : fromEnv;
  }
  return { ok: true, value: values };
}

/** Limits for {@linkcode numberFlag}. */
export interface NumberLimits {
  /** Smallest accepted value (inclusive). */
  min?: number;
  /** Largest accepted value (inclusive). */
  max?: number;
  /** Require a whole number. */
  integer?: boolean;
}

/**
 * Convert a flag to a number within limits, or record why not and return the fallback.
 *
 * @param name Flag name for the message.
 * @param raw The raw value; undefined yields `fallback` with no error.
 * @param fallback Default when the flag is absent or invalid.
 * @param errors Where problems are appended.
 */
export function numberFlag(
  name: string,
  raw: RawFlags[string],
  fallback: number,
  errors: string[],
  limits: NumberLimits = {},
): number {
  if (raw === undefined) return fallback;
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  const { min = -Infinity, max = Infinity, integer = false } = limits;
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const kind = integer ? "an integer" : "a number";
    errors.push(`Cannot use --${name}: expected ${kind} in [${min}, ${max}], got "${raw}"`);
    return fallback;
  }
  return value;
}

/**
 * Convert a Go-style duration flag to milliseconds, or record why not and return the fallback.
 *
 * @param name Flag name for the message.
 * @param raw The raw value; undefined yields `fallback` with no error.
 * @param fallback Default in milliseconds.
 * @param errors Where problems are appended.
 */
export function durationFlag(
  name: string,
  raw: RawFlags[string],
  fallback: number,
  errors: string[],
): number {
  if (raw === undefined) return fallback;
  const value = typeof raw === "string" ? parseDuration(raw) : undefined;
  if (value === undefined) {
    errors.push(`Cannot use --${name}: expected a duration like 250ms, 5s or 1h30m, got "${raw}"`);
    return fallback;
  }
  return value;
}

/**
 * Convert a flag to one of a fixed set of words, or record why not and return the fallback.
 *
 * @param name Flag name for the message.
 * @param raw The raw value; undefined yields `fallback` with no error.
 * @param choices Accepted words.
 * @param fallback Default.
 * @param errors Where problems are appended.
 */
export function choiceFlag<T extends string>(
  name: string,
  raw: RawFlags[string],
  choices: readonly T[],
  fallback: T,
  errors: string[],
): T {
  if (raw === undefined) return fallback;
  if (typeof raw === "string" && (choices as readonly string[]).includes(raw)) return raw as T;
  errors.push(`Cannot use --${name}: expected one of ${choices.join(", ")}, got "${raw}"`);
  return fallback;
}

/**
 * Read an environment variable, treating a denied permission as unset.
 *
 * The tools run with `--allow-env` limited to their own prefix; anything else simply is absent.
 */
export function processEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
