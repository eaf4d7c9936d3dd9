/**
 * One period of the strategy cycle: what `live_cycle.ts` measures and `cycle_table.ts` prints.
 *
 * Kept apart from `live_cycle.ts` so the table, which the cycle calls, can name the type without
 * importing the cycle back (an import cycle).
 *
 * @module
 */

import type { BackendStatus } from "../../lib/admin/mod.ts";

/** One finished period: a service's strategy and the stats over the time it was active. */
export interface CyclePeriod {
  /** The service cycled. */
  readonly service: string;
  readonly strategy: string;
  /** The cycled service's backends over the period. */
  readonly report: { readonly window_seconds: number; readonly backends: readonly BackendStatus[] };
}
