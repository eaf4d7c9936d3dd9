/**
 * Config section `hedging`: send a slow idempotent request once more to another backend.
 *
 * Off unless set. `hedging: {}` turns it on with the defaults; `hedging: false` turns off, in a
 * service, what the top level turned on. A service's keys left out keep the top level's values.
 *
 * @module
 */

import type { Node } from "yaml";
import { readDuration, readSwitchable } from "./fields.ts";
import type { Reader } from "./reader.ts";
import type { HedgeDelay, HedgingConfig } from "./types.ts";

/** What `hedging: {}` means: hedge after the service's p95, at most 5% of requests. */
export const HEDGING_DEFAULTS: HedgingConfig = Object.freeze({
  delay: Object.freeze({ kind: "percentile", percentile: 95 }),
  maxRatio: 0.05,
});

/** `p95`, `p99.9`: a percentile of the service's time to response headers. */
const PERCENTILE = /^p(\d{1,3}(?:\.\d{1,3})?)$/;

/** Read `hedging.delay`: a duration of at least 1 ms, or a percentile `p50`..`p99.999`. */
function readDelay(r: Reader, node: Node | undefined, path: string): HedgeDelay | undefined {
  const s = r.scalar(node, path);
  if (!s) return undefined;
  const m = typeof s.value === "string" ? PERCENTILE.exec(s.value.trim()) : null;
  if (m) {
    const percentile = Number(m[1]);
    if (percentile >= 50 && percentile < 100) return { kind: "percentile", percentile };
    r.fail(s.node, path, `must be a percentile from p50 to below p100, got ${JSON.stringify(s.value)}`);
    return undefined;
  }
  if (typeof s.value === "string" && /^p/i.test(s.value.trim())) {
    r.fail(
      s.node,
      path,
      `must be a duration like 50ms or a percentile like "p95", got ${JSON.stringify(s.value)}`,
    );
    return undefined;
  }
  const ms = readDuration(r, node, path, 1);
  return ms === undefined ? undefined : { kind: "fixed", ms };
}

/**
 * Read `hedging`; absent keeps `base` (off, or for a service the top level's). `false` is off.
 * `at` prefixes field paths in messages (`services.api.`).
 *
 * @example
 * ```yaml
 * hedging: {delay: 50ms, max_ratio: 0.05}
 * ```
 */
export function readHedging(
  r: Reader,
  node: Node | undefined,
  base: HedgingConfig | null,
  at = "",
): HedgingConfig | null | undefined {
  if (node === undefined) return base;
  const path = `${at}hedging`;
  const m = readSwitchable(r, node, path, ["delay", "max_ratio"], "{delay: 50ms, max_ratio: 0.05}");
  if (!m) return m;
  const d = base ?? HEDGING_DEFAULTS;
  const delay = m.has("delay") ? readDelay(r, m.get("delay"), `${path}.delay`) : d.delay;
  let maxRatio = m.has("max_ratio") ? r.number(m.get("max_ratio"), `${path}.max_ratio`, 0, 1) : d.maxRatio;
  if (maxRatio === 0) {
    r.fail(
      r.nodeOf(m.get("max_ratio")),
      `${path}.max_ratio`,
      "must be more than 0 (hedging: false turns it off)",
    );
    maxRatio = undefined;
  }
  return delay === undefined || maxRatio === undefined ? undefined : { delay, maxRatio };
}
