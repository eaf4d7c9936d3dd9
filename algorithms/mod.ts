/**
 * The strategy registry: one table from config name to factory, plus the Go project's names as
 * aliases. Unknown names are a config error that lists {@linkcode STRATEGY_NAMES}.
 *
 * @module
 */

import { createIpHash } from "./ip_hash.ts";
import { createLeastConnections } from "./least_connections.ts";
import { createLeastResources } from "./least_resources.ts";
import { createPeakEwma } from "./peak_ewma.ts";
import { createPowerOfTwo } from "./power_of_two.ts";
import { createPrequal } from "./prequal.ts";
import { createRandom } from "./random.ts";
import { createRoundRobin } from "./round_robin.ts";
import type { StrategyFactory } from "./types.ts";
import { createWeightedRoundRobin } from "./weighted_round_robin.ts";

export type * from "./types.ts";

/** Every strategy by its canonical config name. */
export const STRATEGIES: Readonly<Record<string, StrategyFactory>> = Object.freeze({
  round_robin: createRoundRobin,
  weighted_round_robin: createWeightedRoundRobin,
  random: createRandom,
  least_connections: createLeastConnections,
  power_of_two: createPowerOfTwo,
  peak_ewma: createPeakEwma,
  least_resources: createLeastResources,
  prequal: createPrequal,
  ip_hash: createIpHash,
});

/** Names from the Go project's `load_balancer.algorithm`, accepted for compatibility. */
export const STRATEGY_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  RoundRobin: "round_robin",
  WeightedRoundRobin: "weighted_round_robin",
  LeastConnections: "least_connections",
  LeastUsedResources: "least_resources",
  Random: "random",
  IpHashing: "ip_hash",
});

/** Canonical strategy names, in registry order. */
export const STRATEGY_NAMES: readonly string[] = Object.freeze(Object.keys(STRATEGIES));

/**
 * Resolve a config name or alias to its canonical name.
 *
 * @returns the canonical name, or undefined when the name is unknown.
 * @example
 * ```ts
 * import { resolveStrategyName } from "./mod.ts";
 * resolveStrategyName("RoundRobin"); // "round_robin"
 * ```
 */
export function resolveStrategyName(name: string): string | undefined {
  if (Object.hasOwn(STRATEGIES, name)) return name;
  const alias = STRATEGY_ALIASES[name];
  return alias !== undefined && Object.hasOwn(STRATEGIES, alias) ? alias : undefined;
}
