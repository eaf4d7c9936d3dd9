/**
 * One routed request's way through its service: body preparation, the pick (or the wait queue),
 * the attempts with their retries and hedge, and the response the client gets.
 *
 * The common request (no streamed body, a backend free at once, no hedge, no retry) goes through
 * it without an async frame: {@linkcode Flow.start} returns the first attempt's promise with one
 * handler. Each step that may wait (a streamed body, the queue, a hedge, a retry) is an async
 * method of its own, entered only when needed. An `async` forwarder awaiting all of them cost its
 * frame and a promise per await on every request (about 1.3 KB, docs/performance.md). The
 * response the client gets is made in lib/proxy/respond.ts.
 *
 * @module
 */

import { attempt, type AttemptDeps, type AttemptResult, discard } from "./attempt.ts";
import { admit } from "./admit.ts";
import type { Deadlines, RandomIds } from "../base/mod.ts";
import type { Backend } from "../pool/mod.ts";
import type { Config } from "../config/mod.ts";
import { conditionOf, matches } from "../resilience/mod.ts";
import { requestIdOf, upgradeOf, upstreamHeaders } from "./headers.ts";
import { protocolLabel } from "../metrics/mod.ts";
import { prepareBody } from "./replay.ts";
import type { ServerRequest } from "../listener/mod.ts";
import type { Service } from "../service/mod.ts";
import type { AccessFacts, AccessSink } from "./access.ts";
import { type TraceHeaders, traceHeaders } from "./trace.ts";
import type { ForwarderFeatures } from "./features.ts";
import { hedgedAttempt, type HedgePolicy } from "./hedge.ts";
import { type Finished, ForwardedRequest, Forwarding } from "./forwarding.ts";
import { bodyFailed } from "./answers.ts";
import { respond, type Responding } from "./respond.ts";
import type { StickyChoice, StickySessions } from "./sticky.ts";

/** What every flow of one handler shares. */
export interface FlowContext {
  readonly ids: RandomIds;
  readonly features: ForwarderFeatures;
  /** The hedge delays' timer. */
  readonly deadlines: Deadlines;
  readonly access: AccessSink | undefined;
  readonly now: () => number;
  /** The service's attempt dependencies for this config and strategy (cached by the handler). */
  readonly attemptDeps: (svc: Service, config: Config, strategy: string) => AttemptDeps;
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

/** One request through one service; {@linkcode Flow.start} runs it once. */
export class Flow implements Responding {
  readonly f: Forwarding;
  readonly requestId: string;
  readonly trace: TraceHeaders;
  readonly upgrade: string | undefined;
  readonly mayRetry: boolean;
  /** Hedging is on and applies: an idempotent request that does not switch protocols. */
  readonly mayHedge: boolean;
  readonly hedging: HedgePolicy | undefined;
  readonly sticky: StickySessions<Backend> | undefined;
  stuck: StickyChoice<Backend> | undefined;
  pinned: Backend | undefined;
  replayable = true;
  upstream!: ForwardedRequest;
  deps!: AttemptDeps;
  /** Backends tried so far, when there was a hedge or a retry. */
  tried: Backend[] | undefined;

  constructor(
    readonly ctx: FlowContext,
    readonly svc: Service,
    readonly target: string,
    readonly req: ServerRequest,
    readonly config: Config,
    facts: AccessFacts | undefined,
  ) {
    const strategy = svc.balancer.strategy;
    this.hedging = ctx.features.hedging(svc);
    this.sticky = ctx.features.sticky(svc);
    const clientIp = req.remoteAddr.hostname;
    const protocol = protocolLabel(req.version);
    this.f = new Forwarding(svc, req, clientIp, strategy, protocol, facts, ctx.access, ctx.now);
    this.requestId = requestIdOf(req.headers, ctx.ids);
    this.trace = traceHeaders(req.headers, config.traceContext, ctx.ids);
    if (facts) {
      facts.requestId = this.requestId;
      facts.traceId = this.trace.traceId;
    }
    const idempotent = IDEMPOTENT_METHODS.has(req.method);
    this.mayRetry = svc.config.retries.attempts > 0 && idempotent;
    this.upgrade = upgradeOf(req.version, req.headers);
    this.mayHedge = this.hedging !== undefined && idempotent && this.upgrade === undefined;
  }

  /** Forward the request; resolves with the counted response. */
  start(): Promise<Finished> {
    const body = this.req.body;
    // Bodies are buffered for replay by the retry rules, for retries and hedges alike.
    const limit = this.mayRetry || this.mayHedge ? this.svc.config.retries.maxBodyBytes : 0;
    if (body instanceof ReadableStream) return this.#streamed(body, limit);
    // Most bodies are none or arrived with the head: no await (and no object) for those.
    this.replayable = body === null || body.length <= limit;
    return this.#pick(body);
  }

  async #streamed(stream: ReadableStream<Uint8Array>, limit: number): Promise<Finished> {
    let prepared;
    try {
      prepared = await prepareBody(stream, limit);
    } catch (e) {
      return this.f.finish("none", bodyFailed(e));
    }
    this.replayable = prepared.replayable;
    return this.#pick(prepared.body);
  }

  #pick(body: ServerRequest["body"]): Promise<Finished> {
    const { svc, f, req, sticky } = this;
    const balancer = svc.balancer;
    // A valid sticky cookie whose backend is healthy pins the request there when it has a free
    // slot; one whose backend cannot serve any more is replaced on the response.
    const stuck = this.stuck = sticky?.choose(req.headers, svc.pool);
    const pinned = this.pinned = stuck?.backend?.state === "healthy" ? stuck.backend : undefined;
    // The common case, nobody queued and a backend free, needs no await.
    const empty = svc.queue.length === 0;
    const backend = empty
      ? (pinned && balancer.acquireThis(pinned) ? pinned : balancer.acquire(f))
      : undefined;
    return backend ? this.#send(backend, body) : this.#queued(body, empty);
  }

  async #queued(body: ServerRequest["body"], triedFirst: boolean): Promise<Finished> {
    const { svc, f, req } = this;
    const admitted = await admit({ ...svc, config: svc.config, now: this.ctx.now }, f, req, triedFirst);
    if (!("backend" in admitted)) return f.finish("none", admitted);
    return this.#send(admitted.backend, body);
  }

  #send(backend: Backend, body: ServerRequest["body"]): Promise<Finished> {
    const { svc, req, config, f } = this;
    svc.budget.recordRequest();
    this.hedging?.recordRequest();
    this.upstream = new ForwardedRequest(
      req.method,
      this.target,
      upstreamHeaders(req.headers.raw, {
        clientIp: f.clientIp,
        proto: req.secure ? "https" : "http",
        requestId: this.requestId,
        upgrade: this.upgrade,
        trace: config.traceContext.enabled ? this.trace : undefined,
      }, req.headers.lower),
      body,
      this.upgrade !== undefined,
      req,
    );
    this.deps = this.ctx.attemptDeps(svc, config, f.strategy);
    if (f.facts) f.facts.firstAttemptAt = this.ctx.now();
    // A session pinned to its backend is not hedged: another backend may not know the session.
    if (this.mayHedge && this.replayable && !this.pinned) return this.#hedged(backend);
    return attempt(this.deps, backend, this.upstream).then((result) => this.#afterAttempt(result, 0));
  }

  async #hedged(backend: Backend): Promise<Finished> {
    const { svc, f, req } = this;
    const retries = svc.config.retries.on;
    const raced = await hedgedAttempt(
      {
        attempt: this.deps,
        policy: this.hedging!,
        deadlines: this.ctx.deadlines,
        balancer: svc.balancer,
        resilience: svc.resilience,
        ctx: f,
        conclusive: (r) => r.ok && !(r.outcome && matches(retries, r.outcome)),
        client: () => req.signal,
      },
      backend,
      this.upstream,
    );
    const result = raced.result;
    const hedge = f.hedge = raced.hedge;
    if (hedge) {
      f.attempts++;
      (this.tried ??= []).push(result.backend === backend ? hedge.backend : backend);
    }
    return this.#afterAttempt(result, 0);
  }

  /** After attempt `n` (0 the first): respond, or retry on another backend. */
  #afterAttempt(result: AttemptResult, n: number): Promise<Finished> | Finished {
    this.f.attempts++;
    const next = this.#retryOn(result, n);
    return next ? this.#retry(result, next, n + 1) : respond(this, result);
  }

  async #retry(previous: AttemptResult, backend: Backend, n: number): Promise<Finished> {
    await discard(previous);
    return this.#afterAttempt(await attempt(this.deps, backend, this.upstream), n);
  }

  /** The backend to retry on after attempt `n`, when the rules, the budget and the pool allow one. */
  #retryOn(result: AttemptResult, n: number): Backend | undefined {
    const { svc, f, req } = this;
    const retries = svc.config.retries;
    const { backend, outcome } = result;
    if (
      !this.mayRetry || n >= retries.attempts || !this.replayable || outcome === undefined ||
      !matches(retries.on, outcome) ||
      req.signal.aborted
    ) return undefined;
    if (!svc.budget.tryRetry()) {
      svc.resilience.budgetExhausted();
      return undefined;
    }
    (this.tried ??= []).push(backend);
    const next = svc.balancer.acquire(f, this.tried);
    if (next) svc.resilience.retried(backend.name, conditionOf(outcome));
    return next;
  }
}
