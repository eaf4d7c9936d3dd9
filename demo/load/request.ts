/**
 * Send one scheduled request and record its outcome.
 *
 * @module
 */

import { classifyError } from "./errors.ts";
import { retryable, retryStatus, type Targets } from "./failover.ts";
import type { Recorder } from "./recorder.ts";

/** Everything needed to send one request of a run. */
export interface RequestSpec {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body?: string;
  readonly timeoutMs: number;
  /** Connection pool of the sending client. */
  readonly client: Deno.HttpClient;
  /** Aborts when the whole run is cancelled. */
  readonly cancel: AbortSignal;
  /**
   * With `--failover`: the addresses of `url`'s host in turn, and a retry at the next one for an
   * idempotent request that fails. Each attempt then ends after `attemptTimeoutMs`.
   */
  readonly targets?: Targets;
  /** Longest wait for one attempt's full response, with `targets`. */
  readonly attemptTimeoutMs?: number;
}

/** Largest JSON body read to find its `backend` field; longer bodies are only drained. */
const MAX_JSON_BYTES = 64 << 10;

/**
 * Send a request that was due at `dueAt` and record the response or the failure.
 *
 * Latency runs from `dueAt`, not from the moment of sending, and ends when the body has been read
 * in full: time spent waiting behind a stalled target is the target's latency, which is the
 * coordinated-omission correction wrk2 makes. Never throws.
 *
 * @param spec Where and what to send.
 * @param dueAt Scheduled time on the `now` clock.
 * @param recorder Where the outcome goes.
 * @param now Monotonic clock in milliseconds.
 */
export async function sendScheduled(
  spec: RequestSpec,
  dueAt: number,
  recorder: Recorder,
  now: () => number,
): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no full response within ${spec.timeoutMs} ms`, "TimeoutError")),
    spec.timeoutMs,
  );
  const onCancel = () => controller.abort(spec.cancel.reason);
  spec.cancel.addEventListener("abort", onCancel, { once: true });
  recorder.sent();
  try {
    const [first, next] = spec.targets?.next() ?? [spec.url, spec.url];
    let outcome = await attempt(spec, first, controller.signal);
    if (spec.targets && retryable(spec.method) && !spec.cancel.aborted && !controller.signal.aborted) {
      const reason = "error" in outcome
        ? classifyError(outcome.error)
        : retryStatus(outcome.status)
        ? String(outcome.status)
        : undefined;
      if (reason !== undefined) {
        recorder.retried(reason);
        outcome = await attempt(spec, next, controller.signal);
        if (!("error" in outcome) && !retryStatus(outcome.status)) recorder.recovered();
      }
    }
    if ("error" in outcome) throw outcome.error;
    if (spec.targets) recorder.answeredBy(new URL(outcome.url).host);
    recorder.response(outcome.status, now() - dueAt, outcome.backend);
  } catch (error) {
    if (spec.cancel.aborted) recorder.cancelled();
    else recorder.failure(classifyError(controller.signal.aborted ? controller.signal.reason : error));
  } finally {
    clearTimeout(timer);
    spec.cancel.removeEventListener("abort", onCancel);
  }
}

/** One attempt's outcome: the response read in full, or what went wrong. */
type Outcome = { status: number; backend: string | undefined; url: string } | { error: unknown };

/**
 * Send the request to `url` and read the response in full. With failover each attempt has its
 * own time limit, so a replica that went silent costs one attempt, not the whole request.
 */
async function attempt(spec: RequestSpec, url: string, whole: AbortSignal): Promise<Outcome> {
  const own = new AbortController();
  const onWhole = () => own.abort(whole.reason);
  whole.addEventListener("abort", onWhole, { once: true });
  const limitMs = spec.targets ? spec.attemptTimeoutMs : undefined;
  const timer = limitMs === undefined ? undefined : setTimeout(
    () => own.abort(new DOMException(`no full response from ${url} within ${limitMs} ms`, "TimeoutError")),
    limitMs,
  );
  try {
    const response = await fetch(url, {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
      client: spec.client,
      signal: own.signal,
    });
    return { status: response.status, backend: await readBackend(response), url };
  } catch (error) {
    return { error: own.signal.aborted && !whole.aborted ? own.signal.reason : error };
  } finally {
    clearTimeout(timer);
    whole.removeEventListener("abort", onWhole);
  }
}

/**
 * Read the body in full and return which backend served it: the `X-LB-Backend` header set by
 * the balancer, else the `backend` field of a small JSON body (a demo backend answering directly).
 */
async function readBackend(response: Response): Promise<string | undefined> {
  const header = response.headers.get("x-lb-backend");
  const type = response.headers.get("content-type") ?? "";
  const length = Number(response.headers.get("content-length") ?? "0");
  if (header === null && type.includes("json") && length <= MAX_JSON_BYTES) {
    const text = await response.text();
    try {
      const backend = (JSON.parse(text) as { backend?: unknown })?.backend;
      return typeof backend === "string" ? backend : undefined;
    } catch {
      return undefined;
    }
  }
  if (response.body) { for await (const _ of response.body) { /* drain: latency ends at the last byte */ } }
  return header ?? undefined;
}
