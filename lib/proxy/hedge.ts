/**
 * Hedged requests (Dean and Barroso, "The Tail at Scale", CACM 2013): an idempotent request whose
 * first attempt has no response headers after `hedging.delay` is sent once more, to a different
 * eligible backend, and the first response headers win.
 *
 * When a backend is slow for reasons of its own (a GC pause, a cold cache, a noisy neighbour), a
 * second copy on another backend is very likely fast, so the slowest requests come back after
 * about `delay` plus a normal latency instead of the slow one. Waiting for the p95 before sending
 * the hedge means at most about 5% extra requests; the budget (lib/resilience/hedge_budget.ts)
 * caps it at `max_ratio` whatever happens, so a cluster that slows down as a whole is not sent
 * twice its load.
 *
 * Rules, all in this file:
 *
 * - Only the first attempt is hedged; retries of a failure work as before, after the race, and
 *   skip both backends raced.
 * - The hedge takes a slot on an eligible backend other than the first (never the wait queue):
 *   with no other backend free, there is no hedge. It gets what is left of `timeouts.request`
 *   measured from the first attempt, so hedging never makes a request wait longer for a 504.
 * - A response that `retries.on` would retry (a 503) or a failure does not win while the other
 *   attempt is still out; when neither attempt has a winning answer, a response beats a failure
 *   and the first attempt's answer beats the hedge's, and retries decide what happens next.
 * - The loser is cancelled: its exchange is aborted and its connection closed, unless its
 *   response had already been read completely, in which case the connection goes back to the
 *   pool (lib/upstream/client.ts). A cancelled loser is not a failure of its backend: passive
 *   health does not count it, and the strategy sees it as an exchange that lasted until then.
 * - The client leaving cancels both attempts.
 *
 * @module
 */

import type { PickContext } from "../../algorithms/mod.ts";
import type { Deadlines } from "../base/mod.ts";
import type { HedgingConfig } from "../config/mod.ts";
import type { ServiceResilienceMetrics } from "../metrics/mod.ts";
import type { Backend, Balancer } from "../pool/mod.ts";
import { HedgeBudget, LatencyWindow } from "../resilience/mod.ts";
import type { UpstreamRequest } from "../upstream/mod.ts";
import { attempt, type AttemptDeps, type AttemptResult, discard } from "./attempt.ts";

/** Which attempt's response the client got, when a hedge was sent. */
export type HedgeWinner = "first" | "hedge" | "neither";

/** A hedge that was sent: where, and who won. */
export interface HedgeRecord {
  /** The hedge's backend. */
  readonly backend: Backend;
  /**
   * `first`: the first attempt's response headers came first and the hedge was cancelled;
   * `hedge`: the hedge's came first and the first attempt was cancelled; `neither`: neither
   * attempt had a winning answer (both failed, or answered what `retries.on` retries).
   */
  readonly winner: HedgeWinner;
}

/**
 * One service's hedging: its settings, its budget, and the running percentile of its first
 * attempts' time to response headers that a `delay: "p95"` waits for.
 */
export class HedgePolicy {
  #config: HedgingConfig;
  readonly #budget: HedgeBudget;
  readonly #window: LatencyWindow;

  constructor(config: HedgingConfig, now: () => number) {
    this.#config = config;
    this.#budget = new HedgeBudget({ maxRatio: config.maxRatio, now });
    this.#window = new LatencyWindow({ now });
  }

  /** The settings in force. */
  get config(): HedgingConfig {
    return this.#config;
  }

  /** Apply a reload's settings; the budget's and the window's counts are kept. */
  configure(config: HedgingConfig): void {
    if (config === this.#config) return;
    this.#config = config;
    this.#budget.configure(config.maxRatio);
  }

  /** Count a request of the service (every one, hedgeable or not): the budget's base. */
  recordRequest(): void {
    this.#budget.recordRequest();
  }

  /**
   * How long a first attempt may go without response headers before the hedge, in ms; undefined
   * while a percentile delay has too few samples (under 50 in the last 10 s) to be known.
   */
  delayMs(): number | undefined {
    const d = this.#config.delay;
    return d.kind === "fixed" ? d.ms : this.#window.percentile(d.percentile);
  }

  /**
   * Record a first attempt's time to response headers. A first attempt cancelled because its
   * hedge won is recorded at the time it was cancelled: a lower bound, but one above the delay,
   * which is all a percentile estimate needs to know of it.
   */
  observe(ms: number): void {
    if (this.#config.delay.kind === "percentile") this.#window.observe(ms);
  }

  /** Take one hedge from the budget; false when `max_ratio` is spent. */
  tryHedge(): boolean {
    return this.#budget.tryHedge();
  }
}

/** What a hedged attempt needs besides the attempt's own dependencies. */
export interface HedgeDeps {
  readonly attempt: AttemptDeps;
  readonly policy: HedgePolicy;
  /** The one-timer deadline set the hedge delays run on. */
  readonly deadlines: Deadlines;
  readonly balancer: Balancer;
  readonly resilience: ServiceResilienceMetrics;
  /** The request's pick context (the hedge's backend is picked by the strategy too). */
  readonly ctx: PickContext;
  /** True when a result may be relayed while the other attempt is still out (not retriable). */
  readonly conclusive: (result: AttemptResult) => boolean;
  /** The client's abort signal, read only when needed (it is created on first read). */
  readonly client: () => AbortSignal;
}

/** The race's result: the answer to relay (or to retry on), and the hedge if one was sent. */
export interface HedgedResult {
  readonly result: AttemptResult;
  readonly hedge?: HedgeRecord;
}

/** `request` with an abort of its own on top of the client's. */
function cancellable(
  request: UpstreamRequest,
  client: () => AbortSignal,
): { request: UpstreamRequest; cancel: () => void } {
  const own = new AbortController();
  let signal: AbortSignal | undefined;
  return {
    request: {
      method: request.method,
      target: request.target,
      headers: request.headers,
      body: request.body,
      upgrade: request.upgrade,
      // Created on first read, as the client's own: most attempts never read it.
      get signal() {
        return signal ??= AbortSignal.any([client(), own.signal]);
      },
    },
    cancel: () => own.abort(),
  };
}

/** Record a first attempt that ran alone: its headers time, or the timeout it hit. */
function observeAlone(policy: HedgePolicy, result: AttemptResult, ms: number): void {
  if (result.ok || result.kind === "timeout") policy.observe(ms);
}

/**
 * Send `request` to `first` (already counted in flight) and, when it has no response headers
 * after the delay and the budget and another eligible backend allow, to a second backend too.
 * The request's body must be replayable (bytes or none).
 */
export async function hedgedAttempt(
  deps: HedgeDeps,
  first: Backend,
  request: UpstreamRequest,
): Promise<HedgedResult> {
  const { policy, attempt: base } = deps;
  const now = base.now;
  const started = now();
  const delay = policy.delayMs();
  if (delay === undefined || delay >= base.timeouts.requestMs) {
    const result = await attempt(base, first, request);
    observeAlone(policy, result, now() - started);
    return { result };
  }
  const a = cancellable(request, deps.client);
  let firstAt = 0;
  const pa = attempt(base, first, a.request).then((r) => (firstAt = now(), r));
  const due = Promise.withResolvers<undefined>();
  const timer = { deadline: started + delay, expire: () => due.resolve(undefined) };
  deps.deadlines.add(timer);
  const early = await Promise.race([pa, due.promise]);
  deps.deadlines.delete(timer);
  if (early !== undefined) {
    observeAlone(policy, early, firstAt - started);
    return { result: early };
  }
  const other = hedgeBackend(deps, first);
  if (other === undefined) {
    const result = await pa;
    observeAlone(policy, result, firstAt - started);
    return { result };
  }
  deps.resilience.hedged();
  const remaining = base.timeouts.requestMs - (now() - started);
  const b = cancellable(request, deps.client);
  const hedgeDeps = { ...base, timeouts: { connectMs: base.timeouts.connectMs, requestMs: remaining } };
  const pb = attempt(hedgeDeps, other, b.request);
  const results: [AttemptResult | undefined, AttemptResult | undefined] = [undefined, undefined];
  const won = await new Promise<0 | 1 | -1>((resolve) => {
    const settle = (i: 0 | 1) => (r: AttemptResult) => {
      results[i] = r;
      if (deps.conclusive(r)) resolve(i);
      else if (results[i === 0 ? 1 : 0] !== undefined) resolve(-1);
    };
    pa.then(settle(0));
    pb.then(settle(1));
  });
  if (won === 1) {
    a.cancel();
    void pa.then(discard);
    policy.observe(now() - started);
    deps.resilience.hedgeEnded(true);
    return { result: results[1]!, hedge: { backend: other, winner: "hedge" } };
  }
  if (won === 0) {
    b.cancel();
    void pb.then(discard);
    policy.observe(firstAt - started);
    deps.resilience.hedgeEnded(false);
    return { result: results[0]!, hedge: { backend: other, winner: "first" } };
  }
  const [ra, rb] = results as [AttemptResult, AttemptResult];
  observeAlone(policy, ra, firstAt - started);
  deps.resilience.hedgeEnded(false);
  const keep = !ra.ok && rb.ok ? rb : ra;
  await discard(keep === ra ? rb : ra);
  return { result: keep, hedge: { backend: other, winner: "neither" } };
}

/**
 * The hedge's backend, counted in flight, or undefined: the client left, no other backend is
 * eligible, or the budget is spent (counted). Eligibility is checked first so a hedge that could
 * not go anywhere does not spend the budget.
 */
function hedgeBackend(deps: HedgeDeps, first: Backend): Backend | undefined {
  if (deps.client().aborted) return undefined;
  if (!deps.balancer.pool.eligible().some((b) => b !== first)) return undefined;
  if (!deps.policy.tryHedge()) {
    deps.resilience.hedgeBudgetExhausted();
    return undefined;
  }
  return deps.balancer.acquireOther(deps.ctx, [first]);
}
