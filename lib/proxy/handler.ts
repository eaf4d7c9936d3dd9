/**
 * The forwarder: one public request in, routed to a service, one or more backend attempts out,
 * the response streamed back.
 *
 * Errors become statuses only here, at the edge: 404 when no route matches, 503 when no backend
 * of the service is eligible (or its wait queue is full or timed out), 502 when the backend
 * connection fails or resets, 504 when no response headers arrive within `timeouts.request`. A
 * failed attempt of an idempotent request is retried on another backend when the service's
 * `retries` allow it (see lib/resilience/retry_budget.ts), and a slow one is hedged when its
 * `hedging` is on (lib/proxy/hedge.ts); `sticky` sessions pin a client to its backend by a signed
 * cookie (lib/proxy/sticky.ts). Response bodies always stream without buffering.
 *
 * @module
 */

import { attempt, type AttemptDeps, type AttemptResult, discard } from "./attempt.ts";
import { admit } from "./admit.ts";
import { Deadlines } from "../base/mod.ts";
import type { Backend } from "../pool/mod.ts";
import type { Config } from "../config/mod.ts";
import { conditionOf, matches } from "../resilience/mod.ts";
import { downstreamHeaders, requestIdOf, upgradeOf, upstreamHeaders } from "./headers.ts";
import { type Metrics, protocolLabel } from "../metrics/mod.ts";
import { prepareBody } from "./replay.ts";
import type { UpstreamClient } from "../upstream/mod.ts";
import type { ServerRequest, ServerResponse } from "../listener/mod.ts";
import type { Router } from "../routing/mod.ts";
import type { Service } from "../service/mod.ts";
import { targetOf } from "./target.ts";
import { RandomIds } from "../base/mod.ts";
import { type AccessFacts, type AccessSink, logged } from "./access.ts";
import { traceHeaders } from "./trace.ts";
import { ForwarderFeatures } from "./features.ts";
import { hedgedAttempt } from "./hedge.ts";
import { type Finished, ForwardedRequest, Forwarding } from "./forwarding.ts";
import { bodyFailed, errorResponse, GONE, notFound, setHeader, tunnelOf } from "./answers.ts";

/** Everything the forwarder needs. */
export interface ProxyDeps {
  /** The current config; read once per request, so a reload never changes a request midway. */
  readonly config: () => Config;
  /** The route table in effect, bound to the running services (both change on reload). */
  readonly router: () => Router<Service>;
  readonly client: UpstreamClient;
  /** For requests no route matched; a service's own go through its view. */
  readonly metrics: Metrics;
  /** Monotonic clock in ms. */
  readonly now: () => number;
  /**
   * The access log, and whoever else reads one record per request (tests); absent or disabled:
   * no records are built.
   */
  readonly accessLog?: AccessSink;
  /** Wall clock in ms since the Unix epoch, for sticky cookie expiries. @default Date.now */
  readonly wallClock?: () => number;
}

/** Methods that may be sent twice without changing the outcome (RFC 9110 section 9.2.2). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "PUT",
  "DELETE",
]);

/** Build the public request handler. */
export function createProxyHandler(deps: ProxyDeps): (req: ServerRequest) => Promise<ServerResponse> {
  const ids = new RandomIds();
  const access = deps.accessLog;
  // Rebuilt only when a reload or a strategy switch changes what it holds.
  const shared = new WeakMap<Service, AttemptDeps>();
  const attemptDepsFor = (svc: Service, config: Config, strategy: string): AttemptDeps => {
    let d = shared.get(svc);
    if (d?.timeouts !== config.timeouts || d.strategy !== strategy) {
      d = {
        balancer: svc.balancer,
        client: deps.client,
        metrics: svc.metrics,
        outliers: svc.outliers,
        now: deps.now,
        strategy,
        timeouts: config.timeouts,
        loads: svc.loads,
      };
      shared.set(svc, d);
    }
    return d;
  };
  const features = new ForwarderFeatures(deps.now, deps.wallClock ?? Date.now);
  const deadlines = new Deadlines(deps.now);

  // Not async: a routed request's promise is forward()'s own, without a frame around it.
  return (req): Promise<ServerResponse> => {
    const config = deps.config();
    const facts: AccessFacts | undefined = access?.enabled ? { start: deps.now(), attempts: 0 } : undefined;
    const target = targetOf(req.target);
    const choice = deps.router().match({ method: req.method, target, headers: req.headers });
    if (!choice) {
      deps.metrics.countUnrouted(req.method, 404, protocolLabel(req.version));
      const res = notFound(req, target);
      return Promise.resolve(facts ? logged(access!, deps.now, req, facts, undefined, res) : res);
    }
    if (facts) {
      facts.service = choice.service.name;
      facts.route = choice.route;
    }
    return forward(choice.service, choice.target ?? target, req, config, facts);
  };

  async function forward(
    svc: Service,
    target: string,
    req: ServerRequest,
    config: Config,
    facts: AccessFacts | undefined,
  ): Promise<Finished> {
    const { balancer, budget, resilience } = svc;
    const settings = svc.config;
    const clientIp = req.remoteAddr.hostname;
    const strategy = balancer.strategy;
    const hedging = features.hedging(svc);
    const sticky = features.sticky(svc);
    const f = new Forwarding(
      svc,
      req,
      clientIp,
      strategy,
      protocolLabel(req.version),
      facts,
      access,
      deps.now,
    );
    const requestId = requestIdOf(req.headers, ids);
    const trace = traceHeaders(req.headers, config.traceContext, ids);
    if (facts) {
      facts.requestId = requestId;
      facts.traceId = trace.traceId;
    }
    const { retries } = settings;
    const idempotent = IDEMPOTENT_METHODS.has(req.method);
    const mayRetry = retries.attempts > 0 && idempotent;
    const upgrade = upgradeOf(req.version, req.headers);
    const mayHedge = hedging !== undefined && idempotent && upgrade === undefined;
    // Bodies are buffered for replay by the retry rules, for retries and hedges alike.
    const limit = mayRetry || mayHedge ? retries.maxBodyBytes : 0;
    // Most bodies are none or arrived with the head: no await (and no object) for those.
    let body = req.body;
    let replayable = body === null || (body instanceof Uint8Array && body.length <= limit);
    if (body instanceof ReadableStream) {
      try {
        ({ replayable, body } = await prepareBody(body, limit));
      } catch (e) {
        return f.finish("none", bodyFailed(e));
      }
    }

    // A valid sticky cookie whose backend is healthy pins the request there when it has a free
    // slot; one whose backend cannot serve any more is replaced on the response.
    const stuck = sticky?.choose(req.headers, svc.pool);
    const pinned = stuck?.backend?.state === "healthy" ? stuck.backend : undefined;
    // The common case, nobody queued and a backend free, needs no await.
    const empty = svc.queue.length === 0;
    let backend = empty ? (pinned && balancer.acquireThis(pinned) ? pinned : balancer.acquire(f)) : undefined;
    if (!backend) {
      const admitted = await admit({ ...svc, config: settings, now: deps.now }, f, req, empty);
      if (!("backend" in admitted)) return f.finish("none", admitted);
      backend = admitted.backend;
    }
    budget.recordRequest();
    hedging?.recordRequest();
    const upstream = new ForwardedRequest(
      req.method,
      target,
      upstreamHeaders(req.headers.raw, {
        clientIp,
        proto: req.secure ? "https" : "http",
        requestId,
        upgrade,
        trace: config.traceContext.enabled ? trace : undefined,
      }, req.headers.lower),
      body,
      upgrade !== undefined,
      req,
    );
    const attemptDeps = attemptDepsFor(svc, config, strategy);
    let tried: Backend[] | undefined;
    let result: AttemptResult;
    if (facts) facts.firstAttemptAt = deps.now();
    // A session pinned to its backend is not hedged: another backend may not know the session.
    const hedged = hedging && mayHedge && replayable && !pinned;
    for (let n = 0;; n++) {
      if (n === 0 && hedged) {
        const raced = await hedgedAttempt(
          {
            attempt: attemptDeps,
            policy: hedging,
            deadlines,
            balancer,
            resilience,
            ctx: f,
            conclusive: (r) => r.ok && !(r.outcome && matches(retries.on, r.outcome)),
            client: () => req.signal,
          },
          backend,
          upstream,
        );
        result = raced.result;
        const hedge = f.hedge = raced.hedge;
        if (hedge) {
          f.attempts++;
          (tried ??= []).push(result.backend === backend ? hedge.backend : backend);
        }
      } else result = await attempt(attemptDeps, backend, upstream);
      f.attempts++;
      backend = result.backend;
      const outcome = result.outcome;
      if (
        !mayRetry || n >= retries.attempts || !replayable || outcome === undefined ||
        !matches(retries.on, outcome) ||
        req.signal.aborted
      ) break;
      if (!budget.tryRetry()) {
        resilience.budgetExhausted();
        break;
      }
      (tried ??= []).push(backend);
      const next = balancer.acquire(f, tried);
      if (!next) break;
      resilience.retried(backend.name, conditionOf(outcome));
      await discard(result);
      backend = next;
    }

    const expose = config.exposeBackendHeader;
    if (!result.ok) {
      // The client left, or broke its streamed body's framing: not the backend's fault.
      if (result.kind === "cancelled") {
        return f.finish(backend.name, req.bodyError ? bodyFailed(req.bodyError) : GONE);
      }
      const code = result.kind === "timeout" ? 504 : 502;
      const reason = result.reason ??
        (result.kind === "timeout" ? "upstream timed out" : `upstream ${result.kind} failed`);
      return f.finish(backend.name, errorResponse(code, reason, backend, requestId, expose));
    }
    if (facts) facts.headersAt = deps.now();
    const upgraded = result.upgraded;
    const headers = downstreamHeaders(result.headers, upgraded !== undefined);
    setHeader(headers, "x-request-id", requestId);
    if (expose) setHeader(headers, "x-lb-backend", backend.name);
    if (stuck) {
      f.sticky = stuck.issue || !pinned ? "set" : "kept";
      // A healthy pinned backend keeps its sessions even when another one answered this time.
      if (f.sticky === "set") {
        headers.push(
          "set-cookie",
          sticky!.setCookie(pinned ?? backend, features.secure(req, config.trustedProxies)),
        );
      }
    }
    if (upgraded) {
      return f.finish(backend.name, {
        status: 101,
        headers,
        body: null,
        tunnel: tunnelOf(svc, backend, upgraded),
      });
    }
    return f.finish(backend.name, {
      status: result.status,
      headers,
      body: result.body,
      length: result.length,
    });
  }
}
