/**
 * The `prequal` section: how the shell probes backends for the `prequal` strategy, and the
 * strategy's hot/cold quantile. Every key may be set at the top level or per service; keys left
 * out keep the top level's value (or the default).
 *
 * ```yaml
 * prequal:
 *   probe_path: /health   # default: health_check.path
 *   probe_rate: 0.5       # probes per request (fractions spread evenly: 0.5 is one every other request)
 *   max_probe_share: 0.5  # probes never exceed this share of what backends receive (probes + requests)
 *   pool_size: 16         # answers kept
 *   q_rif: 1              # above this quantile of recent answers' requests in flight, a backend is hot
 *   max_age: 1s           # answers older than this are dropped
 * ```
 *
 * @module
 */

import type { Node } from "yaml";
import { readDuration, readRequestPath } from "./fields.ts";
import type { Reader } from "./reader.ts";
import type { PrequalConfig } from "./types.ts";

const KEYS = ["probe_path", "probe_rate", "max_probe_share", "pool_size", "q_rif", "max_age"] as const;

/**
 * Defaults. `pool_size` 16 is the paper's; its probe rate (3 per query) assumes queries that cost
 * far more than a probe, while here a probe costs a backend about what a small request does, so
 * the default is one probe every other request (backends receive 1.5 times the requests), and
 * never more than half of what backends see. `q_rif` is 1 (no backend is ever hot), not the
 * paper's 0.84: the strategy reads each backend's latency at the requests in flight it has now,
 * which already carries its queue, and 0.84 sent the slow backend of the `one-slow` comparison
 * the requests its busy fast ones were hot for (docs/strategies.md has the measurements).
 */
export const PREQUAL_DEFAULTS: PrequalConfig = Object.freeze({
  probeRate: 0.5,
  maxProbeShare: 0.5,
  poolSize: 16,
  qRif: 1,
  maxAgeMs: 1_000,
});

/** Read `prequal` over `base` (the defaults, or for a service the top level's); `at` prefixes paths. */
export function readPrequal(
  r: Reader,
  node: Node | undefined,
  base: PrequalConfig = PREQUAL_DEFAULTS,
  at = "",
): PrequalConfig | undefined {
  if (node === undefined) return base;
  const m = r.map(node, `${at}prequal`, KEYS);
  if (!m) return undefined;
  const path = (key: string) => `${at}prequal.${key}`;
  let ok = true;
  const out: { -readonly [K in keyof PrequalConfig]: PrequalConfig[K] } = { ...base };
  if (m.has("probe_path")) {
    const probePath = readRequestPath(r, m.get("probe_path"), path("probe_path"));
    if (probePath === undefined) ok = false;
    else out.probePath = probePath;
  }
  const number = (key: string, min: number, max: number) => {
    const v = r.number(m.get(key), path(key), min, max);
    ok &&= v !== undefined;
    return v ?? NaN;
  };
  if (m.has("probe_rate")) out.probeRate = number("probe_rate", 0.01, 16);
  if (m.has("max_probe_share")) out.maxProbeShare = number("max_probe_share", 0.01, 0.95);
  if (m.has("q_rif")) out.qRif = number("q_rif", 0, 1);
  if (m.has("pool_size")) {
    const size = r.integer(m.get("pool_size"), path("pool_size"), 1, 1024);
    ok &&= size !== undefined;
    out.poolSize = size ?? 0;
  }
  if (m.has("max_age")) {
    const ms = readDuration(r, m.get("max_age"), path("max_age"), 10);
    ok &&= ms !== undefined;
    out.maxAgeMs = ms ?? 0;
  }
  return ok ? out : undefined;
}
