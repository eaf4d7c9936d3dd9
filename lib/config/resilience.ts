/**
 * Config sections for resilience: `retries`, `passive` (outlier detection), `slow_start` and
 * `queue`. Same rules as the rest of the config: every key has a default, every problem is one
 * line naming the field path.
 *
 * @module
 */

import type { Node } from "yaml";
import type { Reader } from "./reader.ts";
import { readDuration } from "./fields.ts";
import { parseSize } from "./size.ts";
import type { FailureCondition, PassiveConfig, QueueConfig, RetryConfig } from "./types.ts";

/** Defaults, as documented in docs/resilience.md. */
export const RESILIENCE_DEFAULTS: {
  readonly retries: RetryConfig;
  readonly passive: PassiveConfig;
  readonly slowStartMs: number;
  readonly queue: QueueConfig;
} = {
  retries: {
    attempts: 2,
    budget: 0.2,
    minPerSecond: 10,
    on: ["connect_failure", "reset", "502", "503", "504"],
    maxBodyBytes: 64 * 1024,
  },
  passive: {
    consecutiveFailures: 5,
    baseEjectionMs: 30_000,
    maxEjectionMs: 300_000,
    maxEjectedPercent: 50,
    on: ["connect_failure", "reset", "timeout", "5xx"],
  },
  slowStartMs: 30_000,
  queue: { max: 1000, timeoutMs: 5_000 },
};

const NAMED = ["connect_failure", "reset", "timeout", "5xx"];

/** Read a list of failure conditions. */
function readConditions(r: Reader, node: Node | undefined, path: string): FailureCondition[] | undefined {
  const items = r.seq(node, path);
  if (!items) return undefined;
  const out: FailureCondition[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const s = r.scalar(item, `${path}[${i}]`);
    if (!s) return void (ok = false);
    const text = String(s.value);
    if (NAMED.includes(text) || (/^5\d\d$/.test(text))) {
      if (!out.includes(text as FailureCondition)) out.push(text as FailureCondition);
      return;
    }
    r.fail(
      s.node,
      `${path}[${i}]`,
      `must be one of ${NAMED.join(", ")} or a status 500-599, got ${JSON.stringify(s.value)}`,
    );
    ok = false;
  });
  return ok ? out : undefined;
}

/** Read a byte size: an integer or "64KiB"/"1MiB", within [0, maxBytes]. */
export function readSize(
  r: Reader,
  node: Node | undefined,
  path: string,
  maxBytes: number,
): number | undefined {
  const s = r.scalar(node, path);
  if (!s) return undefined;
  const bytes = parseSize(s.value);
  if (bytes === undefined || bytes > maxBytes) {
    r.fail(
      s.node,
      path,
      `must be a size in bytes like 65536, "64KiB" or "1MiB" (at most ${maxBytes}), got ${
        JSON.stringify(s.value)
      }`,
    );
    return undefined;
  }
  return bytes;
}

/**
 * Read `retries`; keys left out keep their value in `base` (the defaults, or for a service the
 * top level's). `at` prefixes field paths in messages (`services.api.`).
 */
export function readRetries(
  r: Reader,
  node: Node | undefined,
  base: RetryConfig = RESILIENCE_DEFAULTS.retries,
  at = "",
): RetryConfig | undefined {
  const d = base;
  if (node === undefined) return d;
  const m = r.map(node, `${at}retries`, ["attempts", "budget", "min_per_second", "on", "max_body"]);
  if (!m) return undefined;
  const attempts = m.has("attempts")
    ? r.integer(m.get("attempts"), `${at}retries.attempts`, 0, 10)
    : d.attempts;
  const budget = m.has("budget") ? r.number(m.get("budget"), `${at}retries.budget`, 0, 10) : d.budget;
  const minPerSecond = m.has("min_per_second")
    ? r.integer(m.get("min_per_second"), `${at}retries.min_per_second`, 0, 100_000)
    : d.minPerSecond;
  const on = m.has("on") ? readConditions(r, m.get("on"), `${at}retries.on`) : d.on;
  const maxBodyBytes = m.has("max_body")
    ? readSize(r, m.get("max_body"), `${at}retries.max_body`, 64 * 1024 * 1024)
    : d.maxBodyBytes;
  if (
    attempts === undefined || budget === undefined || minPerSecond === undefined || !on ||
    maxBodyBytes === undefined
  ) return undefined;
  return { attempts, budget, minPerSecond, on, maxBodyBytes };
}

/** Read `passive`; keys left out keep their value in `base`, as {@linkcode readRetries} does. */
export function readPassive(
  r: Reader,
  node: Node | undefined,
  base: PassiveConfig = RESILIENCE_DEFAULTS.passive,
  at = "",
): PassiveConfig | undefined {
  const d = base;
  if (node === undefined) return d;
  const keys = ["consecutive_failures", "base_ejection", "max_ejection", "max_ejected_percent", "on"];
  const m = r.map(node, `${at}passive`, keys);
  if (!m) return undefined;
  const consecutiveFailures = m.has("consecutive_failures")
    ? r.integer(m.get("consecutive_failures"), `${at}passive.consecutive_failures`, 0, 10_000)
    : d.consecutiveFailures;
  const baseEjectionMs = m.has("base_ejection")
    ? readDuration(r, m.get("base_ejection"), `${at}passive.base_ejection`, 1)
    : d.baseEjectionMs;
  const maxEjectionMs = m.has("max_ejection")
    ? readDuration(r, m.get("max_ejection"), `${at}passive.max_ejection`, 1)
    : d.maxEjectionMs;
  const maxEjectedPercent = m.has("max_ejected_percent")
    ? r.integer(m.get("max_ejected_percent"), `${at}passive.max_ejected_percent`, 0, 100)
    : d.maxEjectedPercent;
  const on = m.has("on") ? readConditions(r, m.get("on"), `${at}passive.on`) : d.on;
  if (
    consecutiveFailures === undefined || baseEjectionMs === undefined || maxEjectionMs === undefined ||
    maxEjectedPercent === undefined || !on
  ) return undefined;
  if (maxEjectionMs < baseEjectionMs) {
    r.fail(
      r.nodeOf(m.get("max_ejection") ?? m.get("base_ejection")),
      `${at}passive.max_ejection`,
      `must be at least ${at}passive.base_ejection (${baseEjectionMs}ms), got ${maxEjectionMs}ms`,
    );
    return undefined;
  }
  return { consecutiveFailures, baseEjectionMs, maxEjectionMs, maxEjectedPercent, on };
}

/** Read `queue`; keys left out keep their value in `base`, as {@linkcode readRetries} does. */
export function readQueue(
  r: Reader,
  node: Node | undefined,
  base: QueueConfig = RESILIENCE_DEFAULTS.queue,
  at = "",
): QueueConfig | undefined {
  const d = base;
  if (node === undefined) return d;
  const m = r.map(node, `${at}queue`, ["max", "timeout"]);
  if (!m) return undefined;
  const max = m.has("max") ? r.integer(m.get("max"), `${at}queue.max`, 0, 1_000_000) : d.max;
  const timeoutMs = m.has("timeout")
    ? readDuration(r, m.get("timeout"), `${at}queue.timeout`, 1)
    : d.timeoutMs;
  return max === undefined || timeoutMs === undefined ? undefined : { max, timeoutMs };
}

/** Read `slow_start`: a duration, 0 turns it off; absent keeps `base`. */
export function readSlowStart(
  r: Reader,
  node: Node | undefined,
  base: number = RESILIENCE_DEFAULTS.slowStartMs,
  at = "",
): number | undefined {
  return node === undefined ? base : readDuration(r, node, `${at}slow_start`, 0);
}
