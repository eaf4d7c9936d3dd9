/**
 * One attempt of a request against one backend, with its accounting: in-flight release, latency
 * feedback to the strategy, upstream error metrics, passive health and the backend's load report.
 *
 * The forwarder may make several attempts per request (retries); each one is accounted here on
 * its own, exactly once, whether its response is relayed, discarded for a retry, or cut short.
 *
 * @module
 */

import type { Backend, Balancer, LoadReports } from "../pool/mod.ts";
import type { AttemptOutcome, OutlierDetector } from "../resilience/mod.ts";
import type { ServiceMetrics } from "../metrics/mod.ts";
import {
  type BodyOutcome,
  loadReportHeader,
  type UpstreamClient,
  type UpstreamFailure,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamTimeouts,
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
  /** Where a response's load report (`Endpoint-Load-Metrics`) goes. */
  readonly loads: LoadReports;
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
export function attempt(
  deps: AttemptDeps,
  backend: Backend,
  request: UpstreamRequest,
): Promise<AttemptResult> {
  return new Attempt(deps, backend).run(request);
}

/**
 * One attempt's state, its settle logic as methods: a closure each (and their shared context)
 * per attempt cost more than this one object (docs/performance.md).
 */
class Attempt {
  readonly #started: number;
  #headersMs = 0;
  #status = 0;
  #ended: BodyOutcome | undefined;
  #settled = false;
  /** Told by the upstream client when the body ends. */
  readonly #onEnd = (outcome: BodyOutcome): void => {
    this.#ended = outcome;
    // A body that ends inside send() (none, or all bytes read with the head) ends before the
    // status is known here; it is settled in run(), once it is.
    if (this.#status !== 0) this.#settleResponse();
  };

  constructor(readonly deps: AttemptDeps, readonly backend: Backend) {
    this.#started = deps.now();
  }

  /** Send the request; not async: the send's promise with one handler bound per attempt. */
  run(request: UpstreamRequest): Promise<AttemptResult> {
    const { deps, backend } = this;
    return deps.client.send(backend, request, deps.timeouts, this.#onEnd, this.#started).then(this.#received);
  }

  readonly #received = (
    result: UpstreamResponse | UpstreamFailure,
  ): AttemptResult | Promise<AttemptResult> => {
    const { deps, backend } = this;
    this.#headersMs = deps.now() - this.#started;
    if (!result.ok) {
      if (result.kind === "cancelled") {
        this.#settle("cancelled");
        return { ...result, backend, outcome: undefined };
      }
      const outcome: AttemptOutcome = { kind: result.kind };
      this.#settle(outcome);
      return { ...result, backend, outcome };
    }
    const report = loadReportHeader(result.headers);
    if (report !== undefined) deps.loads.record(backend, report);
    if ((result.status < 200 && !result.upgraded) || result.status > 599) {
      // 1xx finals and out-of-range codes cannot be relayed faithfully: a broken upstream.
      const reason = `upstream sent status ${result.status}`;
      const broken = (): AttemptResult => {
        this.#settle(RESET);
        return { ok: false, kind: "reset", message: reason, reason, backend, outcome: RESET };
      };
      return result.body instanceof ReadableStream ? result.body.cancel().then(broken) : broken();
    }
    const status = this.#status = result.status;
    // A body that ended with its head (a small response) is settled now, at the time just read.
    if (this.#ended !== undefined) this.#settleResponse(this.#started + this.#headersMs);
    const outcome: AttemptOutcome | undefined = status >= 500 ? { kind: "status", status } : undefined;
    // Spelled out, not spread: a literal of one shape is built in place, a spread copies by lookup.
    return {
      ok: true,
      status,
      headers: result.headers,
      body: result.body,
      length: result.length,
      upgraded: result.upgraded,
      backend,
      outcome,
    };
  };

  /** A response's verdict: its status, unless its body broke. */
  #settleResponse(at?: number): void {
    const status = this.#status;
    this.#settle(
      this.#ended === "reset" ? RESET : status >= 500 ? { kind: "status", status } : "success",
      at,
    );
  }

  /** @param at when the attempt ended, when the caller has just read the clock @default now */
  #settle(verdict: Settlement, at?: number): void {
    if (this.#settled) return;
    this.#settled = true;
    const { deps, backend } = this;
    const { metrics } = deps;
    const ms = (at ?? deps.now()) - this.#started;
    const failed = verdict !== "success" && verdict !== "cancelled";
    if (failed && verdict.kind !== "status") {
      metrics.upstreamError(backend.name, verdict.kind);
    }
    // Passive health first: an ejection is decided while this attempt still counts in flight.
    if (verdict !== "cancelled") deps.outliers.record(backend, failed ? verdict : undefined);
    const headersMs = this.#headersMs;
    deps.balancer.release(backend, { latencyMs: headersMs || ms, ok: !failed });
    // A tunnel's lifetime (minutes of WebSocket) is no request latency: its duration is the
    // handshake, up to the 101, or every open socket would burn the latency SLO's error budget.
    metrics.observeDuration(backend.name, deps.strategy, (this.#status === 101 ? headersMs : ms) / 1000);
  }
}

/** Throw away a response that will not be relayed (a retried 5xx): cancel its body, free its slot. */
export async function discard(result: AttemptResult): Promise<void> {
  if (result.ok && result.body instanceof ReadableStream) await result.body.cancel().catch(() => {});
}
