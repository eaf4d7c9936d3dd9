/**
 * When each client's requests are due, and who each client claims to be.
 *
 * The schedule is fixed before the run starts and never depends on responses: that is what
 * makes the load open-loop. A client's requests are evenly spaced at 1/rate, starting at a seeded
 * random phase so that clients do not all fire in the same millisecond.
 *
 * @module
 */

/** One client's fixed schedule. */
export interface ClientPlan {
  /** Client index, 0-based. */
  readonly index: number;
  /** X-Forwarded-For address in TEST-NET-3 (203.0.113.0/24, RFC 5737: never routed). */
  readonly address: string;
  /** Offset of the first request from the start of the run, in milliseconds. */
  readonly phaseMs: number;
  /** Spacing between requests in milliseconds. */
  readonly intervalMs: number;
  /** Number of requests due inside the window. */
  readonly count: number;
}

/**
 * Plan every client's schedule.
 *
 * @param clients Number of clients.
 * @param rate Requests per second per client.
 * @param durationMs Sending window; Infinity when only `requests` bounds the run.
 * @param requests Total request cap over all clients, spread as evenly as possible; undefined for none.
 * @param random Seeded uniform source: the same seed gives the same addresses and phases.
 * @returns One plan per client.
 * @throws {RangeError} When neither a finite duration nor a request cap bounds the run.
 *
 * @example Usage
 * ```ts
 * import { planClients } from "./schedule.ts";
 * import { seededRandom } from "../shared/random.ts";
 * const plans = planClients(2, 10, 1_000, undefined, seededRandom(1));
 * plans.map((p) => p.count); // [10, 10]
 * ```
 */
export function planClients(
  clients: number,
  rate: number,
  durationMs: number,
  requests: number | undefined,
  random: () => number,
): ClientPlan[] {
  if (!Number.isFinite(durationMs) && requests === undefined) {
    throw new RangeError("Cannot plan an unbounded run: give a finite duration or a request count");
  }
  const intervalMs = 1_000 / rate;
  return Array.from({ length: clients }, (_, index) => {
    const address = `203.0.113.${1 + Math.floor(random() * 254)}`;
    const phaseMs = random() * intervalMs;
    // Due times are phase + i * interval; those before the end of the window count.
    const inWindow = Number.isFinite(durationMs)
      ? Math.max(0, Math.ceil((durationMs - phaseMs) / intervalMs))
      : Infinity;
    const quota = requests === undefined
      ? Infinity
      : Math.floor(requests / clients) + (index < requests % clients ? 1 : 0);
    return { index, address, phaseMs, intervalMs, count: Math.min(inWindow, quota) };
  });
}

/** Requests of `plan` due strictly before `elapsedMs` from the start of the run. */
export function dueBefore(plan: ClientPlan, elapsedMs: number): number {
  if (elapsedMs <= plan.phaseMs) return 0;
  return Math.min(plan.count, Math.ceil((elapsedMs - plan.phaseMs) / plan.intervalMs));
}
