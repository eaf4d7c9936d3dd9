/**
 * Discrete-event load simulation on a simulated clock: requests arrive at a fixed rate, each is
 * placed by the strategy, stays in flight for the latency the scenario gives its backend, then
 * completes and is reported through `observe`. Lets latency- and load-aware strategies be tested
 * over minutes of simulated traffic in milliseconds, exactly and repeatably.
 *
 * @module
 */

import type { Feedback, Strategy } from "../../algorithms/types.ts";
import type { TestBackend } from "./backends.ts";

/** A simulated clock; give `() => clock.now` to the strategy as `now`. */
export interface Clock {
  now: number;
}

/** Scenario for {@linkcode simulate}. */
export interface SimulationOptions {
  readonly strategy: Strategy;
  readonly clock: Clock;
  /** The eligible backends at time `t` (return the same array while membership is unchanged). */
  readonly candidates: (t: number) => readonly TestBackend[];
  /** Outcome of a request sent to `backend` at time `t`. */
  readonly outcome: (backend: TestBackend, t: number) => Feedback;
  /** Time between arrivals in milliseconds. */
  readonly intervalMs: number;
  /** Simulated duration in milliseconds, from the clock's current time. */
  readonly durationMs: number;
}

/** One placed request. */
export interface Placement {
  readonly at: number;
  readonly name: string;
}

interface Completion {
  readonly at: number;
  readonly backend: TestBackend;
  readonly feedback: Feedback;
}

/**
 * Run the scenario and return every placement in time order. Requests still in flight at the
 * end are left counted in `inFlight`.
 */
export function simulate(options: SimulationOptions): Placement[] {
  const { strategy, clock, intervalMs } = options;
  const end = clock.now + options.durationMs;
  const pending: Completion[] = []; // sorted by `at`, earliest last
  const placements: Placement[] = [];
  for (let t = clock.now; t < end; t += intervalMs) {
    while (pending.length > 0 && pending[pending.length - 1].at <= t) {
      const done = pending.pop()!;
      clock.now = done.at;
      done.backend.inFlight--;
      strategy.observe?.(done.backend, done.feedback);
    }
    clock.now = t;
    const backend = strategy.pick(options.candidates(t), { hashKey: "" }) as TestBackend | undefined;
    if (backend === undefined) continue;
    backend.inFlight++;
    placements.push({ at: t, name: backend.name });
    const feedback = options.outcome(backend, t);
    const at = t + feedback.latencyMs;
    let i = pending.length;
    while (i > 0 && pending[i - 1].at < at) i--;
    pending.splice(i, 0, { at, backend, feedback });
  }
  clock.now = end;
  return placements;
}

/** Share of placements in `[from, to)` that went to `name`. */
export function shareBetween(
  placements: readonly Placement[],
  name: string,
  from: number,
  to: number,
): number {
  let total = 0;
  let hits = 0;
  for (const p of placements) {
    if (p.at < from || p.at >= to) continue;
    total++;
    if (p.name === name) hits++;
  }
  return total === 0 ? 0 : hits / total;
}
