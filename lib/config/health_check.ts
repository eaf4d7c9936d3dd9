/**
 * The `health_check` section: what active checks ask every backend, how often, and how many
 * results in a row change its state.
 *
 * @module
 */

import type { Node } from "yaml";
import { readDuration, readRequestPath } from "./fields.ts";
import type { Reader } from "./reader.ts";
import type { HealthCheckConfig } from "./types.ts";

const HEALTH_KEYS = [
  "path",
  "interval",
  "timeout",
  "healthy_threshold",
  "unhealthy_threshold",
  "expected_status",
] as const;

/** Defaults of `health_check`. */
export const HEALTH_CHECK_DEFAULTS: HealthCheckConfig = Object.freeze({
  path: "/health",
  intervalMs: 5_000,
  timeoutMs: 2_000,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  expectedStatus: Object.freeze([Object.freeze([200, 399] as const)]),
});

/**
 * Read `health_check`; keys left out keep their value in `base` (the defaults, or for a service
 * the top level's). `at` prefixes field paths in messages (`services.api.`).
 */
export function readHealthCheck(
  r: Reader,
  node: Node | undefined,
  base: HealthCheckConfig = HEALTH_CHECK_DEFAULTS,
  at = "",
): HealthCheckConfig | undefined {
  const out: { -readonly [K in keyof HealthCheckConfig]: HealthCheckConfig[K] | undefined } = { ...base };
  if (node !== undefined) {
    const m = r.map(node, `${at}health_check`, HEALTH_KEYS);
    if (!m) return undefined;
    if (m.has("path")) out.path = readRequestPath(r, m.get("path"), `${at}health_check.path`);
    if (m.has("interval")) {
      out.intervalMs = readDuration(r, m.get("interval"), `${at}health_check.interval`, 10);
    }
    if (m.has("timeout")) out.timeoutMs = readDuration(r, m.get("timeout"), `${at}health_check.timeout`, 1);
    if (m.has("healthy_threshold")) {
      out.healthyThreshold = r.integer(
        m.get("healthy_threshold"),
        `${at}health_check.healthy_threshold`,
        1,
        100,
      );
    }
    if (m.has("unhealthy_threshold")) {
      out.unhealthyThreshold = r.integer(
        m.get("unhealthy_threshold"),
        `${at}health_check.unhealthy_threshold`,
        1,
        100,
      );
    }
    if (m.has("expected_status")) out.expectedStatus = readStatusRanges(r, m.get("expected_status"), at);
  }
  const { path, intervalMs, timeoutMs, healthyThreshold, unhealthyThreshold, expectedStatus } = out;
  if (
    path === undefined || intervalMs === undefined || timeoutMs === undefined ||
    healthyThreshold === undefined ||
    unhealthyThreshold === undefined || expectedStatus === undefined
  ) return undefined;
  return { path, intervalMs, timeoutMs, healthyThreshold, unhealthyThreshold, expectedStatus };
}

/** "200-399", "200", or "200,204,300-399". */
function readStatusRanges(r: Reader, node: Node | undefined, at: string): [number, number][] | undefined {
  const s = r.scalar(node, `${at}health_check.expected_status`);
  if (!s) return undefined;
  const text = String(s.value);
  const ranges: [number, number][] = [];
  for (const part of text.split(",")) {
    const m = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo < 100 || hi > 599 || lo > hi) {
      r.fail(
        s.node,
        `${at}health_check.expected_status`,
        `must be status codes or ranges like "200-399", got "${text}"`,
      );
      return undefined;
    }
    ranges.push([lo, hi]);
  }
  return ranges;
}
