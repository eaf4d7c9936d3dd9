/**
 * The forwarder: one public request in, one backend attempt out, the response streamed back.
 *
 * Errors become statuses only here, at the edge: 503 when no backend is eligible, 502 when the
 * backend connection fails or resets, 504 when no response headers arrive within
 * `timeouts.request`. Bodies stream in both directions without buffering.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import type { Balancer } from "./balancer.ts";
import type { Config } from "./config.ts";
import { downstreamHeaders, requestIdOf, upstreamHeaders } from "./headers.ts";
import type { Metrics } from "./metrics.ts";
import type { BodyOutcome, UpstreamClient } from "./upstream.ts";
import { createHashKey } from "./hash_key.ts";

/** Everything the forwarder needs. */
export interface ProxyDeps {
  readonly config: Config;
  readonly balancer: Balancer;
  readonly client: UpstreamClient;
  readonly metrics: Metrics;
  /** Monotonic clock in ms. */
  readonly now: () => number;
}

/** Status used in metrics when the client went away before the response (as NGINX logs it). */
export const CLIENT_CLOSED = 499;

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
  const { config, balancer, client, metrics, now } = deps;
  const retryAfter = String(Math.max(1, Math.ceil(config.healthCheck.intervalMs / 1000)));
  const keyOf = createHashKey({ key: config.hash.key, trustedProxies: config.trustedProxies });

  return async (req, info) => {
    const clientIp = (info.remoteAddr as Deno.NetAddr).hostname;
    const strategy = balancer.strategy;
    // Lazy: only hashing strategies read the key, and computing it parses addresses and headers.
    const backend = balancer.acquire({
      get hashKey() {
        return keyOf(req, clientIp);
      },
    });
    if (!backend) {
      metrics.countRequest("none", strategy, req.method, 503);
      return new Response("503 Service Unavailable: no healthy backend\n", {
        status: 503,
        headers: { "content-type": "text/plain; charset=utf-8", "retry-after": retryAfter },
      });
    }
    const requestId = requestIdOf(req.headers);
    const started = now();
    let status = 0;
    let settled = false;
    // Called once, when the exchange with the backend is over: response body ended, or failure.
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      const ms = now() - started;
      balancer.release(backend, { latencyMs: ms, ok });
      metrics.observeDuration(backend.name, strategy, ms / 1000);
    };
    const onEnd = (outcome: BodyOutcome) => {
      if (outcome === "reset") metrics.upstreamErrors.inc({ backend: backend.name, kind: "reset" });
      settle(outcome !== "reset" && status < 500);
    };
    const result = await client.send(
      backend,
      {
        method: req.method,
        target: targetOf(req.url),
        headers: upstreamHeaders(req.headers, { clientIp, proto: "http", requestId }),
        body: req.body,
        signal: req.signal,
      },
      config.timeouts,
      onEnd,
    );

    if (!result.ok) {
      if (result.kind === "cancelled") {
        // The client left: not the backend's fault, nobody to answer.
        settle(true);
        metrics.countRequest(backend.name, strategy, req.method, CLIENT_CLOSED);
        return new Response(null, { status: CLIENT_CLOSED });
      }
      settle(false);
      metrics.upstreamErrors.inc({ backend: backend.name, kind: result.kind });
      const code = result.kind === "timeout" ? 504 : 502;
      metrics.countRequest(backend.name, strategy, req.method, code);
      const reason = result.kind === "timeout" ? "upstream timed out" : `upstream ${result.kind} failed`;
      return errorResponse(code, reason, backend, requestId, config.exposeBackendHeader);
    }

    if (result.status < 200 || result.status > 599) {
      // 1xx finals and out-of-range codes cannot be relayed faithfully; treat as a broken upstream.
      await result.body?.cancel();
      settle(false);
      metrics.countRequest(backend.name, strategy, req.method, 502);
      return errorResponse(
        502,
        `upstream sent status ${result.status}`,
        backend,
        requestId,
        config.exposeBackendHeader,
      );
    }
    status = result.status;
    metrics.countRequest(backend.name, strategy, req.method, status);
    const headers = downstreamHeaders(result.headers);
    headers.set("x-request-id", requestId);
    if (config.exposeBackendHeader) headers.set("x-lb-backend", backend.name);
    if (result.body === null) settle(status < 500);
    return new Response(result.body, { status, headers });
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
