/**
 * What happened to one upstream attempt, and whether it matches a list of failure conditions
 * (`retries.on`, `passive.on`).
 *
 * @module
 */

import type { FailureCondition } from "../config/mod.ts";

/** The outcome of one attempt, as far as retries and passive health care. */
export type AttemptOutcome =
  | { readonly kind: "connect" | "reset" | "timeout" }
  | { readonly kind: "status"; readonly status: number };

/**
 * The condition an outcome is counted under in metrics labels: `connect_failure`, `reset`,
 * `timeout`, or the status code.
 */
export function conditionOf(outcome: AttemptOutcome): string {
  if (outcome.kind === "status") return String(outcome.status);
  return outcome.kind === "connect" ? "connect_failure" : outcome.kind;
}

/**
 * True when `outcome` is one of `conditions`.
 *
 * @example
 * ```ts
 * import { matches } from "./failure.ts";
 * matches(["5xx"], { kind: "status", status: 503 }); // true
 * matches(["502"], { kind: "status", status: 503 }); // false
 * ```
 */
export function matches(conditions: readonly FailureCondition[], outcome: AttemptOutcome): boolean {
  if (outcome.kind !== "status") return conditions.includes(conditionOf(outcome) as FailureCondition);
  const { status } = outcome;
  if (status < 500 || status > 599) return false;
  return conditions.includes("5xx") || conditions.includes(String(status) as FailureCondition);
}
