/**
 * The strategy registry: one table from config name to factory, plus the Go project's names as
 * aliases. Unknown names are a config error that lists {@linkcode STRATEGY_NAMES}.
 *
 * @module
 */

import { createRoundRobin } from "./round_robin.ts";
import type { StrategyFactory } from "./types.ts";

export type * from "./types.ts";

/** Every strategy by its canonical config name. */
export const STRATEGIES: Readonly<Record<string, StrategyFactory>> = Object.freeze({
  round_robin: createRoundRobin,
});

/** Names from the Go project's `load_balancer.algorithm`, accepted for compatibility. */
export const STRATEGY_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  RoundRobin: "round_robin",
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
