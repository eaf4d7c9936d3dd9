/**
 * Send one scheduled request and record its outcome.
 *
 * @module
 */

import { classifyError } from "./errors.ts";
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
    const response = await fetch(spec.url, {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
      client: spec.client,
      signal: controller.signal,
    });
    const backend = await readBackend(response);
    recorder.response(response.status, now() - dueAt, backend);
  } catch (error) {
    if (spec.cancel.aborted) recorder.cancelled();
    else recorder.failure(classifyError(controller.signal.aborted ? controller.signal.reason : error));
  } finally {
    clearTimeout(timer);
    spec.cancel.removeEventListener("abort", onCancel);
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
