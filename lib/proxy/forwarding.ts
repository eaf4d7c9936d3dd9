/**
 * The per-request objects of the forwarder: what a request carries through one service (the
 * hashing context strategies read, its attempts, and the one place it is counted), and the
 * request as the upstream client sends it.
 *
 * Both are classes with their getters on the prototype, where the forwarder had object literals
 * with a getter each and a `finish` closure: a literal's getter is a fresh function per request,
 * and every proxied request builds one of each (docs/performance.md).
 *
 * @module
 */

import type { PickContext } from "../../algorithms/mod.ts";
import type { ServerRequest, ServerResponse } from "../listener/mod.ts";
import type { Service } from "../service/mod.ts";
import type { UpstreamRequest } from "../upstream/mod.ts";
import { type AccessFacts, type AccessSink, logged } from "./access.ts";
import type { HedgeRecord } from "./hedge.ts";

/**
 * A response whose request has been counted. Only {@linkcode Forwarding.finish} makes one (a type
 * brand, free at run time), and the handler must return one, so no path through it can answer
 * without counting.
 */
export type Finished = ServerResponse & { readonly __counted: never };

/** One request on its way through `svc`: the strategies' pick context and its accounting. */
export class Forwarding implements PickContext {
  /** Attempts made so far (a hedge counts as one). */
  attempts = 0;
  /** The hedge, when one was sent. */
  hedge: HedgeRecord | undefined = undefined;
  /** What the sticky cookie did, for the access log. */
  sticky: AccessFacts["sticky"] = undefined;
  readonly #protocol: string;

  /**
   * @param facts the access-log record being filled in, when the log is on
   * @param protocol the protocol label of the request's metrics
   */
  constructor(
    readonly svc: Service,
    readonly req: ServerRequest,
    readonly clientIp: string,
    readonly strategy: string,
    protocol: string,
    readonly facts: AccessFacts | undefined,
    readonly access: AccessSink | undefined,
    readonly now: () => number,
  ) {
    this.#protocol = protocol;
  }

  /** Lazy: only hashing strategies read the key, and computing it parses addresses and headers. */
  get hashKey(): string {
    return this.svc.hashKey(this.req, this.clientIp);
  }

  /** The one place a request is counted: its backend (or "none") and the status it got. */
  finish(backend: string, res: ServerResponse): Finished {
    const { req, facts } = this;
    this.svc.metrics.countRequest(backend, this.strategy, req.method, res.status, this.#protocol);
    if (!facts) return res as Finished;
    facts.attempts = this.attempts;
    const hedge = this.hedge;
    if (hedge) facts.hedge = { backend: hedge.backend.name, winner: hedge.winner };
    if (this.sticky) facts.sticky = this.sticky;
    return logged(
      this.access!,
      this.now,
      req,
      facts,
      backend === "none" ? undefined : backend,
      res,
    ) as Finished;
  }
}

/** The request as sent to a backend; its signal is the client's, read only when needed. */
export class ForwardedRequest implements UpstreamRequest {
  constructor(
    readonly method: string,
    readonly target: string,
    readonly headers: readonly string[],
    readonly body: ReadableStream<Uint8Array> | Uint8Array | null,
    readonly upgrade: boolean,
    readonly client: ServerRequest,
  ) {}

  /** The client's signal, created on its first read, which the upstream client does only for slow responses. */
  get signal(): AbortSignal {
    return this.client.signal;
  }
}
