/**
 * Config sections that choose and tune strategies: `strategy`, `hash`, `trusted_proxies`,
 * `peak_ewma` and `least_resources`. A service's sections start from the top level's values.
 *
 * @module
 */

import type { Node } from "yaml";
import { resolveStrategyName, STRATEGY_NAMES, type StrategyTuning } from "../../algorithms/mod.ts";
import { readDuration } from "./fields.ts";
import type { Reader } from "./reader.ts";
import { parseCidr, parseHashKeySpec } from "../net/mod.ts";

/** Read a strategy name (or a Go alias) as its canonical name; absent keeps `base`. */
export function readStrategy(r: Reader, node: Node | undefined, base: string, at = ""): string | undefined {
  if (node === undefined) return base;
  const name = r.string(node, `${at}strategy`);
  if (name === undefined) return undefined;
  const strategy = resolveStrategyName(name);
  if (strategy === undefined) {
    r.fail(
      r.nodeOf(node),
      `${at}strategy`,
      `unknown strategy "${name}"; valid: ${STRATEGY_NAMES.join(", ")}`,
    );
  }
  return strategy;
}

/** Read `hash: {key}`; absent keeps `base`. */
export function readHashKey(r: Reader, node: Node | undefined, base: string, at = ""): string | undefined {
  if (node === undefined) return base;
  const m = r.map(node, `${at}hash`, ["key"]);
  if (!m) return undefined;
  if (!m.has("key")) return base;
  const key = r.string(m.get("key"), `${at}hash.key`);
  if (key === undefined) return undefined;
  const spec = parseHashKeySpec(key);
  if (!spec.ok) {
    r.fail(r.nodeOf(m.get("key")), `${at}hash.key`, spec.error);
    return undefined;
  }
  return key;
}

/** Read `trusted_proxies`: CIDRs or single addresses. */
export function readTrustedProxies(r: Reader, node: Node | undefined): string[] | undefined {
  if (node === undefined) return [];
  const items = r.seq(node, "trusted_proxies");
  if (!items) return undefined;
  const out: string[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const text = r.string(item, `trusted_proxies[${i}]`);
    if (text === undefined) return void (ok = false);
    const cidr = parseCidr(text);
    if (!cidr.ok) {
      r.fail(r.nodeOf(item), `trusted_proxies[${i}]`, cidr.error);
      ok = false;
    } else out.push(text);
  });
  return ok ? out : undefined;
}

/**
 * Read `peak_ewma: {decay}` and `least_resources: {cpu_weight, memory_weight, max_age}`; keys left
 * out keep their value in `base`.
 */
export function readTuning(
  r: Reader,
  ewmaNode: Node | undefined,
  resourcesNode: Node | undefined,
  base: StrategyTuning = {},
  at = "",
): StrategyTuning | undefined {
  const out: { -readonly [K in keyof StrategyTuning]: StrategyTuning[K] } = { ...base };
  let ok = true;
  if (ewmaNode !== undefined) {
    const m = r.map(ewmaNode, `${at}peak_ewma`, ["decay"]);
    if (!m) ok = false;
    if (m?.has("decay")) {
      out.ewmaDecayMs = readDuration(r, m.get("decay"), `${at}peak_ewma.decay`, 100);
      ok &&= out.ewmaDecayMs !== undefined;
    }
  }
  if (resourcesNode !== undefined) {
    const m = r.map(resourcesNode, `${at}least_resources`, ["cpu_weight", "memory_weight", "max_age"]);
    if (!m) ok = false;
    if (m?.has("cpu_weight")) {
      out.cpuWeight = r.number(m.get("cpu_weight"), `${at}least_resources.cpu_weight`, 0, 1);
      ok &&= out.cpuWeight !== undefined;
    }
    if (m?.has("memory_weight")) {
      out.memoryWeight = r.number(m.get("memory_weight"), `${at}least_resources.memory_weight`, 0, 1);
      ok &&= out.memoryWeight !== undefined;
    }
    if (m?.has("max_age")) {
      out.statsMaxAgeMs = readDuration(r, m.get("max_age"), `${at}least_resources.max_age`, 100);
      ok &&= out.statsMaxAgeMs !== undefined;
    }
    if (ok && (out.cpuWeight ?? 0.6) + (out.memoryWeight ?? 0.4) === 0) {
      r.fail(
        r.nodeOf(resourcesNode),
        `${at}least_resources`,
        "cpu_weight and memory_weight cannot both be 0",
      );
      ok = false;
    }
  }
  return ok ? out : undefined;
}
