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

import type { AttemptDeps } from "./attempt.ts";
import { Deadlines, RandomIds } from "../base/mod.ts";
import type { Config } from "../config/mod.ts";
import { type Metrics, protocolLabel } from "../metrics/mod.ts";
import type { UpstreamClient } from "../upstream/mod.ts";
import type { ServerRequest, ServerResponse } from "../listener/mod.ts";
import type { Router } from "../routing/mod.ts";
import type { Service } from "../service/mod.ts";
import { targetOf } from "./target.ts";
import { type AccessFacts, type AccessSink, logged } from "./access.ts";
import { ForwarderFeatures } from "./features.ts";
import { Flow, type FlowContext } from "./flow.ts";
import { notFound } from "./answers.ts";

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

  const ctx: FlowContext = { ids, features, deadlines, access, now: deps.now, attemptDeps: attemptDepsFor };

  // Not async: a routed request's promise is its flow's own, without a frame around it.
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
    return new Flow(ctx, choice.service, choice.target ?? target, req, config, facts).start();
  };
}
