/**
 * Config sections that tune strategies: `hash`, `trusted_proxies`, `peak_ewma` and
 * `least_resources`.
 *
 * @module
 */

import type { Node } from "yaml";
import type { StrategyTuning } from "../../algorithms/mod.ts";
import { readDuration } from "./fields.ts";
import type { Reader } from "./reader.ts";
import { parseCidr, parseHashKeySpec } from "../net/mod.ts";

/** Read `hash.key` and `trusted_proxies`. */
export function readHash(
  r: Reader,
  hashNode: Node | undefined,
  trustedNode: Node | undefined,
): { key: string; trustedProxies: string[] } | undefined {
  let key: string | undefined = "client_ip";
  if (hashNode !== undefined) {
    const m = r.map(hashNode, "hash", ["key"]);
    if (m?.has("key")) {
      key = r.string(m.get("key"), "hash.key");
      if (key !== undefined) {
        const spec = parseHashKeySpec(key);
        if (!spec.ok) {
          r.fail(r.nodeOf(m.get("key")), "hash.key", spec.error);
          key = undefined;
        }
      }
    }
    if (!m) key = undefined;
  }
  const trustedProxies: string[] = [];
  let ok = true;
  if (trustedNode !== undefined) {
    const items = r.seq(trustedNode, "trusted_proxies");
    if (!items) ok = false;
    items?.forEach((item, i) => {
      const text = r.string(item, `trusted_proxies[${i}]`);
      if (text === undefined) return void (ok = false);
      const cidr = parseCidr(text);
      if (!cidr.ok) {
        r.fail(r.nodeOf(item), `trusted_proxies[${i}]`, cidr.error);
        ok = false;
      } else trustedProxies.push(text);
    });
  }
  return key !== undefined && ok ? { key, trustedProxies } : undefined;
}

/** Read `peak_ewma: {decay}` and `least_resources: {cpu_weight, memory_weight, max_age}`. */
export function readTuning(
  r: Reader,
  ewmaNode: Node | undefined,
  resourcesNode: Node | undefined,
): StrategyTuning | undefined {
  const out: { -readonly [K in keyof StrategyTuning]: StrategyTuning[K] } = {};
  let ok = true;
  if (ewmaNode !== undefined) {
    const m = r.map(ewmaNode, "peak_ewma", ["decay"]);
    if (!m) ok = false;
    if (m?.has("decay")) {
      out.ewmaDecayMs = readDuration(r, m.get("decay"), "peak_ewma.decay", 100);
      ok &&= out.ewmaDecayMs !== undefined;
    }
  }
  if (resourcesNode !== undefined) {
    const m = r.map(resourcesNode, "least_resources", ["cpu_weight", "memory_weight", "max_age"]);
    if (!m) ok = false;
    if (m?.has("cpu_weight")) {
      out.cpuWeight = r.number(m.get("cpu_weight"), "least_resources.cpu_weight", 0, 1);
      ok &&= out.cpuWeight !== undefined;
    }
    if (m?.has("memory_weight")) {
      out.memoryWeight = r.number(m.get("memory_weight"), "least_resources.memory_weight", 0, 1);
      ok &&= out.memoryWeight !== undefined;
    }
    if (m?.has("max_age")) {
      out.statsMaxAgeMs = readDuration(r, m.get("max_age"), "least_resources.max_age", 100);
      ok &&= out.statsMaxAgeMs !== undefined;
    }
    if (ok && (out.cpuWeight ?? 0.6) + (out.memoryWeight ?? 0.4) === 0) {
      r.fail(r.nodeOf(resourcesNode), "least_resources", "cpu_weight and memory_weight cannot both be 0");
      ok = false;
    }
  }
  return ok ? out : undefined;
}
