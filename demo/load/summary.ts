/**
 * What a load run did: the summary `runLoad` returns and `report.ts` formats.
 *
 * Kept apart from `load.ts` so the formatter, which `load.ts` calls, can name the type without
 * importing `load.ts` back (an import cycle).
 *
 * @module
 */

import type { Counts } from "./recorder.ts";

/** What a run did. Latencies in milliseconds, rates per second. */
export interface Summary extends Counts {
  readonly url: string;
  readonly method: string;
  readonly clients: number;
  /** Requested rate per client. */
  readonly ratePerClient: number;
  /** Requested rate over all clients. */
  readonly targetRate: number;
  /** Seed of this run: pass it back with `--seed` to repeat the same schedule and addresses. */
  readonly seed: number;
  /** Requested sending window in milliseconds; null when only a request count bounded the run. */
  readonly durationMs: number | null;
  /** From start until the last due request was dispatched (or the run stopped). */
  readonly windowMs: number;
  /** From start until every request had finished. */
  readonly elapsedMs: number;
  /** Requests whose due time came inside the window. */
  readonly scheduled: number;
  /** Scheduled requests never sent because the client's in-flight limit stayed full. */
  readonly unsent: number;
  /** Requests sent per second of the window. */
  readonly sendRate: number;
  /** Responses per second of the whole run. */
  readonly achievedRate: number;
  /** (failed + 5xx + unsent) / scheduled; 0 when nothing was scheduled. */
  readonly errorRate: number;
}
