/**
 * The forwarder: one public request in, one or more backend attempts out, the response streamed
 * back.
 *
 * Errors become statuses only here, at the edge: 503 when no backend is eligible (or the wait
 * queue is full or timed out), 502 when the backend connection fails or resets, 504 when no
 * response headers arrive within `timeouts.request`. A failed attempt of an idempotent request
 * is retried on another backend when `retries` allows it (see lib/retry_budget.ts); response
 * bodies always stream without buffering.
 *
 * @module
 */

import { attempt, type AttemptResult, discard } from "./attempt.ts";
import { admit } from "./admit.ts";
import type { Backend } from "./backend.ts";
import type { Balancer } from "./balancer.ts";
import type { Config } from "./config.ts";
import { conditionOf, matches } from "./failure.ts";
import { downstreamHeaders, requestIdOf, upstreamHeaders } from "./headers.ts";
import type { Metrics } from "./metrics.ts";
import type { ResilienceMetrics } from "./metrics_resilience.ts";
import type { OutlierDetector } from "./outlier.ts";
import type { WaitQueue } from "./queue.ts";
import { prepareBody, type PreparedBody } from "./replay.ts";
import type { RetryBudget } from "./retry_budget.ts";
import type { UpstreamClient } from "./upstream.ts";
import { createHashKey } from "./hash_key.ts";

/** Everything the forwarder needs. */
export interface ProxyDeps {
  /** The current config; read once per request, so a reload never changes a request midway. */
  readonly config: () => Config;
  readonly balancer: Balancer;
  readonly client: UpstreamClient;
  readonly metrics: Metrics;
  readonly resilience: ResilienceMetrics;
  readonly budget: RetryBudget;
  readonly outliers: OutlierDetector;
  readonly queue: WaitQueue;
  /** Monotonic clock in ms. */
  readonly now: () => number;
}

/** Status used in metrics when the client went away before the response (as NGINX logs it). */
export const CLIENT_CLOSED = 499;

/** Methods that may be sent twice without changing the outcome (RFC 9110 section 9.2.2). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "PUT",
  "DELETE",
]);

/**
 * The origin-form request target of `url`, byte-for-byte: the path and query exactly as the
 * client sent them (`//`, `%2F`, dot segments and an empty `?` kept), never the authority of an
 * absolute-form request, so a client cannot choose which host we dial.
 */
export function targetOf(url: string): string {
  const authority = url.indexOf("//") + 2;
  const slash = url.indexOf("/", authority);
  const query = url.indexOf("?", authority);
  if (slash === -1 && query === -1) return "/";
  if (slash === -1 || (query !== -1 && query < slash)) return "/" + url.slice(query);
  return url.slice(slash);
}

/** Build the public request handler. */
export function createProxyHandler(
  deps: ProxyDeps,
): (req: Request, info: Deno.ServeHandlerInfo) => Promise<Response> {
  const { balancer, metrics, resilience, budget } = deps;
  // The affinity key function depends on the config; rebuilt only when a reload swaps it.
  let keyConfig: Config | undefined;
  let keyOf: (req: Request, clientIp: string) => string = () => "";
  const keyFunction = (config: Config) => {
    if (config !== keyConfig) {
      keyConfig = config;
      keyOf = createHashKey({ key: config.hash.key, trustedProxies: config.trustedProxies });
    }
    return keyOf;
  };

  return async (req, info) => {
    const config = deps.config();
    const clientIp = (info.remoteAddr as Deno.NetAddr).hostname;
    const strategy = balancer.strategy;
    const key = keyFunction(config);
    // Lazy: only hashing strategies read the key, and computing it parses addresses and headers.
    const ctx = {
      get hashKey() {
        return key(req, clientIp);
      },
    };
    const { retries } = config;
    const mayRetry = retries.attempts > 0 && IDEMPOTENT_METHODS.has(req.method);
    let body: PreparedBody;
    try {
      body = await prepareBody(req.body, mayRetry ? retries.maxBodyBytes : 0);
    } catch {
      metrics.countRequest("none", strategy, req.method, CLIENT_CLOSED);
      return new Response(null, { status: CLIENT_CLOSED });
    }

    const admitted = await admit(deps, config, ctx, req.signal);
    if (!("backend" in admitted)) {
      metrics.countRequest("none", strategy, req.method, admitted.status);
      return admitted;
    }
    budget.recordRequest();
    const requestId = requestIdOf(req.headers);
    const upstream = {
      method: req.method,
      target: targetOf(req.url),
      headers: upstreamHeaders(req.headers, { clientIp, proto: "http", requestId }),
      body: body.replayable ? body.bytes : body.stream,
      signal: req.signal,
    };
    const attemptDeps = { ...deps, strategy, timeouts: config.timeouts };
    const tried: Backend[] = [];
    let backend = admitted.backend;
    let result: AttemptResult;
    for (let n = 0;; n++) {
      result = await attempt(attemptDeps, backend, upstream);
      const outcome = result.outcome;
      if (
        n >= retries.attempts || !body.replayable || outcome === undefined || !matches(retries.on, outcome) ||
        req.signal.aborted
      ) break;
      if (!budget.tryRetry()) {
        resilience.budgetExhausted.inc();
        break;
      }
      tried.push(backend);
      const next = balancer.acquire(ctx, tried);
      if (!next) break;
      resilience.retries.inc({ backend: backend.name, reason: conditionOf(outcome) });
      await discard(result);
      backend = next;
    }

    const expose = config.exposeBackendHeader;
    if (!result.ok) {
      if (result.kind === "cancelled") {
        // The client left: not the backend's fault, nobody to answer.
        metrics.countRequest(backend.name, strategy, req.method, CLIENT_CLOSED);
        return new Response(null, { status: CLIENT_CLOSED });
      }
      const code = result.kind === "timeout" ? 504 : 502;
      metrics.countRequest(backend.name, strategy, req.method, code);
      const reason = result.reason ??
        (result.kind === "timeout" ? "upstream timed out" : `upstream ${result.kind} failed`);
      return errorResponse(code, reason, backend, requestId, expose);
    }
    metrics.countRequest(backend.name, strategy, req.method, result.status);
    const headers = downstreamHeaders(result.headers);
    headers.set("x-request-id", requestId);
    if (expose) headers.set("x-lb-backend", backend.name);
    return new Response(result.body, { status: result.status, headers });
  };
}

function errorResponse(
  code: number,
  reason: string,
  backend: Backend,
  requestId: string,
  expose: boolean,
): Response {
  const headers = new Headers({ "content-type": "text/plain; charset=utf-8", "x-request-id": requestId });
  if (expose) headers.set("x-lb-backend", backend.name);
  const text = code === 504 ? "504 Gateway Timeout" : "502 Bad Gateway";
  return new Response(`${text}: ${reason}\n`, { status: code, headers });
}
