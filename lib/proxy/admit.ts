/**
 * Admission: the first pick of a request, waiting in the FIFO queue while every healthy backend
 * is at its `max_connections`.
 *
 * Once anyone waits, new requests queue behind them instead of grabbing a slot that was freed
 * for the oldest waiter, so the queue is fair. A woken waiter that still finds no slot (a retry
 * took it) goes back to the head of the queue with its original deadline.
 *
 * @module
 */

import type { PickContext } from "../../algorithms/mod.ts";
import type { Backend, Balancer } from "../pool/mod.ts";
import type { ServiceSettings } from "../config/mod.ts";
import { type ServerResponse, textResponse } from "../listener/mod.ts";
import type { ServiceResilienceMetrics } from "../metrics/mod.ts";
import type { WaitQueue } from "../resilience/mod.ts";

/** What admission needs. */
export interface AdmitDeps {
  readonly balancer: Balancer;
  readonly queue: WaitQueue;
  readonly resilience: ServiceResilienceMetrics;
  /** The service's settings in effect: `queue.timeout` and the health check interval. */
  readonly config: ServiceSettings;
  readonly now: () => number;
}

/**
 * Pick a backend for a new request (counted in flight), or the response to send instead:
 * 503 when nothing is healthy or the queue is full or timed out, 499 when the client left
 * (`client.signal`, read only if the request has to wait). `triedFirst`: the caller already
 * tried an immediate pick with an empty queue, and it found nothing.
 */
export async function admit(
  deps: AdmitDeps,
  ctx: PickContext,
  client: { readonly signal: AbortSignal },
  triedFirst = false,
): Promise<{ backend: Backend } | ServerResponse> {
  const { balancer, queue, now, config } = deps;
  const pool = balancer.pool;
  const first = !triedFirst && queue.length === 0 ? balancer.acquire(ctx) : undefined;
  if (first) return { backend: first };
  const retryAfter = String(Math.max(1, Math.ceil(config.healthCheck.intervalMs / 1000)));
  const deadline = now() + config.queue.timeoutMs;
  let front = false;
  while (pool.hasHealthy()) {
    // The client's signal is read only here, when the request has to wait: the listener creates
    // it on first read (lib/listener/exchange.ts), a cost the common path does not pay.
    const outcome = await queue.wait(client.signal, deadline - now(), front);
    if (outcome === "aborted") return { status: 499, headers: [], body: null };
    if (outcome !== "ready") {
      deps.resilience.queueRejected(outcome);
      return unavailable("every backend is at its connection limit", retryAfter);
    }
    const backend = balancer.acquire(ctx);
    if (backend) {
      // More slots may be free (a backend became healthy): pass the wake-up on.
      if (pool.eligible().length > 0) queue.wakeOne();
      return { backend };
    }
    front = true;
  }
  return unavailable("no healthy backend", retryAfter);
}

function unavailable(reason: string, retryAfter: string): ServerResponse {
  return textResponse(503, `Service Unavailable: ${reason}`, ["retry-after", retryAfter]);
}
