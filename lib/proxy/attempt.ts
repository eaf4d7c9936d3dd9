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
import type { Metrics } from "../metrics/mod.ts";
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
  readonly metrics: Metrics;
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

/**
 * Send `request` to `backend` (already counted in flight by the balancer's pick) and account
 * for it. A response's accounting ends when its body ends; `discard` a response you will not
 * relay so its connection and in-flight slot are freed at once.
 *
 * `outcome` is undefined for a success and for a client cancellation (neither the backend's
 * fault nor a success worth resetting failure counts for).
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
  // Called once, when the exchange with the backend is over: response body ended, or failure.
  const settle = (ok: boolean) => {
    if (settled) return;
    settled = true;
    const ms = now() - started;
    balancer.release(backend, { latencyMs: headersMs || ms, ok });
    metrics.observeDuration(backend.name, deps.strategy, ms / 1000);
  };
  const onEnd = (outcome: BodyOutcome) => {
    if (outcome === "reset") {
      metrics.upstreamErrors.inc({ backend: backend.name, kind: "reset" });
      outliers.record(backend, { kind: "reset" });
    }
    ended = outcome;
    // A body that ends inside send() (none, or all bytes read with the head) ends before the
    // status is known here; it is settled below, once it is.
    if (status !== 0) settle(outcome !== "reset" && status < 500);
  };
  const result = await deps.client.send(backend, request, deps.timeouts, onEnd);
  headersMs = now() - started;

  if (!result.ok) {
    if (result.kind === "cancelled") {
      settle(true);
      return { ...result, backend, outcome: undefined };
    }
    settle(false);
    metrics.upstreamErrors.inc({ backend: backend.name, kind: result.kind });
    const outcome: AttemptOutcome = { kind: result.kind };
    outliers.record(backend, outcome);
    return { ...result, backend, outcome };
  }
  if (result.status < 200 || result.status > 599) {
    // 1xx finals and out-of-range codes cannot be relayed faithfully: a broken upstream.
    if (result.body instanceof ReadableStream) await result.body.cancel();
    settle(false);
    const outcome: AttemptOutcome = { kind: "reset" };
    outliers.record(backend, outcome);
    const reason = `upstream sent status ${result.status}`;
    return { ok: false, kind: "reset", message: reason, reason, backend, outcome };
  }
  status = result.status;
  if (ended !== undefined) settle(ended !== "reset" && status < 500);
  const outcome: AttemptOutcome | undefined = status >= 500 ? { kind: "status", status } : undefined;
  outliers.record(backend, outcome);
  return { ...result, backend, outcome };
}

/** Throw away a response that will not be relayed (a retried 5xx): cancel its body, free its slot. */
export async function discard(result: AttemptResult): Promise<void> {
  if (result.ok && result.body instanceof ReadableStream) await result.body.cancel().catch(() => {});
}
