/**
 * One client's sending loop: requests leave at their due times, never earlier, whatever the
 * target did with the previous ones.
 *
 * @module
 */

import { createSemaphore, sleep } from "../shared/mod.ts";
import type { Recorder } from "./recorder.ts";
import { type RequestSpec, sendScheduled } from "./request.ts";
import { type ClientPlan, dueBefore } from "./schedule.ts";

/** What {@linkcode dispatch} needs besides the plan. */
export interface DispatchContext {
  readonly spec: RequestSpec;
  /** Run start on the `now` clock. */
  readonly start: number;
  readonly maxInFlight: number;
  /** Aborts when the run is cancelled or the window is over: stop waiting for a slot. */
  readonly stopWaiting: AbortSignal;
  readonly recorder: Recorder;
  readonly now: () => number;
}

/**
 * Send one client's requests at their due times, at most `maxInFlight` at once.
 *
 * When the limit is full the loop waits, and the requests that fall due meanwhile go out as soon
 * as slots free, still timed from their due time. Resolves when sending is over, with how many
 * requests fell due and a promise for the last responses (which also closes the client's pool).
 */
export async function dispatch(
  plan: ClientPlan,
  ctx: DispatchContext,
): Promise<{ scheduled: number; drained: Promise<void> }> {
  const { spec, start, now } = ctx;
  const slots = createSemaphore(ctx.maxInFlight);
  const sending = new Set<Promise<void>>();
  let stoppedAt = Infinity;
  for (let i = 0; i < plan.count; i++) {
    const dueAt = start + plan.phaseMs + i * plan.intervalMs;
    try {
      // Overdue requests go at once: even a zero-delay timer costs a turn (and nested ones are
      // clamped to 4 ms), which would throttle catching up after the in-flight limit was full.
      const wait = dueAt - now();
      if (wait > 0) await sleep(wait, spec.cancel);
      else if (spec.cancel.aborted) throw spec.cancel.reason;
      // A free slot is taken even when the window just closed: a timer that fired late must not
      // turn a request that could be sent into an unsent one.
      if (!slots.tryAcquire()) await slots.acquire(ctx.stopWaiting);
    } catch {
      stoppedAt = now() - start;
      break;
    }
    const request = sendScheduled(spec, dueAt, ctx.recorder, now).finally(() => {
      slots.release();
      sending.delete(request);
    });
    sending.add(request);
  }
  const drained = Promise.all(sending).then(() => spec.client.close());
  return { scheduled: dueBefore(plan, stoppedAt), drained };
}
