/**
 * One attempt of a request against one backend, with its accounting: in-flight release, latency
 * feedback to the strategy, upstream error metrics and passive health.
 *
 * The forwarder may make several attempts per request (retries); each one is accounted here on
 * its own, exactly once, whether its response is relayed, discarded for a retry, or cut short.
 *
 * @module
 */

import type { Backend, Balancer } from "../pool/mod.ts";
import type { AttemptOutcome, OutlierDetector } from "../resilience/mod.ts";
import type { ServiceMetrics } from "../metrics/mod.ts";
import type {
  BodyOutcome,
  UpstreamClient,
  UpstreamFailure,
  UpstreamRequest,
  UpstreamResponse,
  UpstreamTimeouts,
} from "../upstream/mod.ts";

/** What every attempt of one request shares. */
export interface AttemptDeps {
  readonly balancer: Balancer;
  readonly client: UpstreamClient;
  readonly metrics: ServiceMetrics;
  readonly outliers: OutlierDetector<Backend>;
  readonly now: () => number;
  /** Strategy label for the duration metric. */
  readonly strategy: string;
  readonly timeouts: UpstreamTimeouts;
}

/** An attempt's result: a response to relay or discard, or a failure before headers. */
export type AttemptResult =
  & {
    readonly backend: Backend;
    readonly outcome: AttemptOutcome | undefined;
    /** Why the attempt failed, for the client's error page, when the kind does not say it. */
    readonly reason?: string;
  }
  & (UpstreamResponse | UpstreamFailure);

/** An attempt's verdict at its end: a failure condition, a success, or the client leaving first. */
type Settlement = AttemptOutcome | "success" | "cancelled";

const RESET: AttemptOutcome = Object.freeze({ kind: "reset" });

/**
 * Send `request` to `backend` (already counted in flight by the balancer's pick) and account
 * for it. A response's accounting ends when its body ends; `discard` a response you will not
 * relay so its connection and in-flight slot are freed at once.
 *
 * `outcome` is undefined for a success and for a client cancellation (neither the backend's
 * fault nor a success worth resetting failure counts for): it is what a retry decides on. The
 * attempt's accounting happens once, in `settle`, when the exchange with the backend is over:
 * the in-flight slot and the strategy's feedback, the duration, an upstream error and passive
 * health all see the same verdict. A body that breaks after a good head is that attempt's
 * failure, counted once.
 */
export async function attempt(
  deps: AttemptDeps,
  backend: Backend,
  request: UpstreamRequest,
): Promise<AttemptResult> {
  const { balancer, metrics, outliers, now } = deps;
  const started = now();
  let headersMs = 0;
  let status = 0;
  let ended: BodyOutcome | undefined;
  let settled = false;
  const settle = (verdict: Settlement) => {
    if (settled) return;
    settled = true;
    const ms = now() - started;
    const failed = verdict !== "success" && verdict !== "cancelled";
    if (failed && verdict.kind !== "status") {
      metrics.upstreamError(backend.name, verdict.kind);
    }
    // Passive health first: an ejection is decided while this attempt still counts in flight.
    if (verdict !== "cancelled") outliers.record(backend, failed ? verdict : undefined);
    balancer.release(backend, { latencyMs: headersMs || ms, ok: !failed });
    // A tunnel's lifetime (minutes of WebSocket) is no request latency: its duration is the
    // handshake, up to the 101, or every open socket would burn the latency SLO's error budget.
    metrics.observeDuration(backend.name, deps.strategy, (status === 101 ? headersMs : ms) / 1000);
  };
  // A response's verdict: its status, unless its body broke.
  const settleResponse = () =>
    settle(ended === "reset" ? RESET : status >= 500 ? { kind: "status", status } : "success");
  const onEnd = (outcome: BodyOutcome) => {
    ended = outcome;
    // A body that ends inside send() (none, or all bytes read with the head) ends before the
    // status is known here; it is settled below, once it is.
    if (status !== 0) settleResponse();
  };
  const result = await deps.client.send(backend, request, deps.timeouts, onEnd);
  headersMs = now() - started;

  if (!result.ok) {
    if (result.kind === "cancelled") {
      settle("cancelled");
      return { ...result, backend, outcome: undefined };
    }
    const outcome: AttemptOutcome = { kind: result.kind };
    settle(outcome);
    return { ...result, backend, outcome };
  }
  if ((result.status < 200 && !result.upgraded) || result.status > 599) {
    // 1xx finals and out-of-range codes cannot be relayed faithfully: a broken upstream.
    if (result.body instanceof ReadableStream) await result.body.cancel();
    settle(RESET);
    const reason = `upstream sent status ${result.status}`;
    return { ok: false, kind: "reset", message: reason, reason, backend, outcome: RESET };
  }
  status = result.status;
  if (ended !== undefined) settleResponse();
  const outcome: AttemptOutcome | undefined = status >= 500 ? { kind: "status", status } : undefined;
  return { ...result, backend, outcome };
}

/** Throw away a response that will not be relayed (a retried 5xx): cancel its body, free its slot. */
export async function discard(result: AttemptResult): Promise<void> {
  if (result.ok && result.body instanceof ReadableStream) await result.body.cancel().catch(() => {});
}
