/**
 * What the proxy did with one request, as one record: for whoever reports on requests (the
 * access log), handed over through {@linkcode ProxyDeps.onFinish} when the request is counted.
 *
 * @module
 */

import type { HedgeWinner } from "./hedge.ts";

/** One request's outcome as the forwarder saw it. */
export interface RequestState {
  /** The service that answered; `none` when no route matched. */
  readonly service: string;
  /** The backend whose response the client got; `none` when the proxy answered itself. */
  readonly backend: string;
  /** The status counted (499 when the client left). */
  readonly status: number;
  /** Upstream attempts made: the first, each retry and a hedge; 0 when none was sent. */
  readonly attempts: number;
  /**
   * Present when a hedge was sent (`hedging`): the hedge's backend and which attempt's response
   * the client got (`first`, `hedge`, or `neither` when both failed or answered what
   * `retries.on` retries).
   */
  readonly hedge?: { readonly backend: string; readonly winner: HedgeWinner };
  /**
   * With `sticky`: `kept` when the request's cookie named a backend that can serve and is kept,
   * `set` when the response carries a new cookie (none, invalid, expired, near expiry, or its
   * backend cannot serve). Absent without sticky sessions or when no backend answered.
   */
  readonly sticky?: "kept" | "set";
}
