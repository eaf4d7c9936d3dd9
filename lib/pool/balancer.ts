/**
 * The balancer shell: asks the current strategy for a backend among the eligible ones and
 * accounts for the request in the same synchronous step.
 *
 * Strategies never see health, draining or metrics; the shell hands them only eligible backends
 * and reports each outcome back through `observe`, so every strategy gets the same inputs and
 * can be swapped live without losing in-flight accounting. A strategy that declares
 * `wantsMembership` (consistent hashing, whose table must not follow health) gets the whole pool
 * and a predicate for the eligible ones instead; the shell still decides eligibility and checks
 * the answer.
 *
 * @module
 */

import { STRATEGIES } from "../../algorithms/mod.ts";
import type {
  Candidate,
  Feedback,
  PickContext,
  Strategy,
  StrategyOptions,
  StrategyTuning,
} from "../../algorithms/mod.ts";
import type { Backend } from "./backend.ts";
import type { ServiceMetrics } from "../metrics/mod.ts";
import type { Pool } from "./pool.ts";

/** One live strategy switch, as {@linkcode Balancer.recentChanges} reports it. */
export interface StrategyChange {
  readonly from: string;
  readonly to: string;
  /** How long ago it happened, in milliseconds. */
  readonly agoMs: number;
}

/**
 * What the shell does around each pick while the strategy reads probes ({@linkcode Strategy.probing}):
 * the prober (lib/pool/prober.ts) ages the probe pool before the pick, counts the pick on the chosen
 * backend's answer and sends the probes due after it, and forgets the pool when the strategy changes.
 */
export interface PickHooks {
  beforePick(): void;
  afterPick(backend: Backend): void;
  reset(): void;
}

/** Switches kept for {@linkcode Balancer.recentChanges}: enough for a minute of manual switching. */
const KEPT_CHANGES = 16;

/** Owns the current strategy and per-request accounting. */
export class Balancer {
  readonly pool: Pool;
  #metrics: ServiceMetrics;
  #options: StrategyOptions;
  #strategy: Strategy;
  /** The last switches, oldest first, stamped with the injected clock. */
  #changes: { from: string; to: string; at: number }[] = [];
  #hooks: PickHooks | undefined;

  constructor(pool: Pool, metrics: ServiceMetrics, strategy: string, options: StrategyOptions) {
    this.pool = pool;
    this.#metrics = metrics;
    this.#options = options;
    this.#strategy = this.#build(strategy);
    metrics.setStrategy(this.#strategy.name);
  }

  #build(name: string): Strategy {
    const factory = STRATEGIES[name];
    if (!factory) throw new RangeError(`Cannot use strategy "${name}": not registered`);
    return factory(this.#options);
  }

  /** Run `hooks` around every pick of a strategy that reads probes (the service's prober). */
  useProbes(hooks: PickHooks): void {
    this.#hooks = hooks;
  }

  /** The current strategy's name (a label on every request metric). */
  get strategy(): string {
    return this.#strategy.name;
  }

  /**
   * Switch strategy. Requests in flight finish under the old one; the next pick uses the new one.
   * The new strategy starts with no learned state (EWMA, WRR positions).
   */
  setStrategy(name: string): void {
    if (name === this.#strategy.name) return;
    const from = this.#strategy.name;
    if (this.#strategy.probing) this.#hooks?.reset();
    this.#strategy = this.#build(name);
    this.#changes.push({ from, to: name, at: this.#options.now() });
    if (this.#changes.length > KEPT_CHANGES) this.#changes.shift();
    this.#metrics.setStrategy(name);
    // Series for the new strategy exist from the switch on, so per-strategy panels show it at once.
    for (const b of this.pool.all()) this.#metrics.addBackend(b.name, name);
  }

  /**
   * The switches of the last `withinMs` milliseconds (at most the last 16), oldest first: the
   * status page marks them on its charts.
   */
  recentChanges(withinMs: number): StrategyChange[] {
    const now = this.#options.now();
    return this.#changes.filter((c) => now - c.at <= withinMs)
      .map(({ from, to, at }) => ({ from, to, agoMs: now - at }));
  }

  /** The strategy tuning in force (`peak_ewma`, `least_resources` sections). */
  get tuning(): StrategyTuning {
    return this.#options.tuning ?? {};
  }

  /**
   * Apply new strategy tuning (a reload changed `peak_ewma` or `least_resources`). Strategies read
   * tuning when built, so the current one is rebuilt: its learned state (EWMA, positions) starts over,
   * as after a switch. Unchanged tuning keeps the running strategy untouched.
   */
  retune(tuning: StrategyTuning): boolean {
    if (JSON.stringify(tuning) === JSON.stringify(this.#options.tuning ?? {})) return false;
    this.#options = { ...this.#options, tuning };
    this.#strategy = this.#build(this.#strategy.name);
    return true;
  }

  /**
   * Choose a backend and count it in flight, or undefined when none is eligible.
   * Synchronous: no other pick can see the backend's count before it is incremented.
   *
   * @param exclude backends already tried for this request: a retry picks among the others,
   *   and only falls back to the full eligible list when no other backend is eligible.
   */
  acquire(ctx: PickContext, exclude: readonly Backend[] = []): Backend | undefined {
    let candidates = this.pool.eligible();
    if (exclude.length > 0) {
      const others = candidates.filter((b) => !exclude.includes(b));
      if (others.length > 0) candidates = others;
    }
    return this.#pick(candidates, ctx, exclude);
  }

  /**
   * Like {@linkcode Balancer.acquire}, but never one of `exclude`: undefined when every eligible
   * backend is excluded. A hedge must go to another backend or not at all (the same backend would
   * double its load and share its slowness).
   */
  acquireOther(ctx: PickContext, exclude: readonly Backend[]): Backend | undefined {
    const others = this.pool.eligible().filter((b) => !exclude.includes(b));
    if (others.length === 0) return undefined;
    return this.#pick(others, ctx, exclude);
  }

  /**
   * The strategy's pick among `candidates`, counted in flight. A strategy that reads probes gets
   * the prober's hooks around it, for a hedge as for a first attempt or a retry: each is a request
   * the backend receives, so each uses the probe answer it was picked by and counts toward the
   * traffic probes are a share of.
   */
  #pick(candidates: readonly Backend[], ctx: PickContext, exclude: readonly Backend[]): Backend | undefined {
    const hooks = this.#strategy.probing ? this.#hooks : undefined;
    hooks?.beforePick();
    const b = this.#strategy.wantsMembership
      ? this.#pickFromMembership(candidates, ctx, exclude)
      : this.#strategy.pick(candidates, ctx) as Backend | undefined;
    if (b) {
      this.pool.take(b);
      hooks?.afterPick(b);
    }
    return b;
  }

  /**
   * Count `backend` in flight without asking the strategy, if it may take a request now (a member,
   * healthy, below `max_connections`): a sticky session's backend. False, and nothing counted,
   * otherwise.
   */
  acquireThis(backend: Backend): boolean {
    if (backend.state !== "healthy" || backend.atLimit || this.pool.get(backend.name) !== backend) {
      return false;
    }
    this.pool.take(backend);
    return true;
  }

  /**
   * A strategy that wants the membership (consistent hashing) gets the pool's members (every
   * backend past its first health check) and a predicate for the ones in `candidates` (the
   * eligible ones, minus those tried or excluded). It is called only when one exists, and what it
   * returns is checked: the shell keeps deciding who may take a request.
   */
  #pickFromMembership(
    candidates: readonly Backend[],
    ctx: PickContext,
    exclude: readonly Backend[],
  ): Backend | undefined {
    if (candidates.length === 0) return undefined;
    const pool = this.pool;
    // Without an exclusion that applies, the eligible list is the pool's own: test the state.
    const eligible = candidates === pool.eligible()
      ? (c: Candidate) => pool.isEligible(c as Backend)
      : (c: Candidate) => pool.isEligible(c as Backend) && !exclude.includes(c as Backend);
    // Not a spread: the context may keep hashKey as a getter on its prototype, which a spread skips.
    const withEligible: PickContext = {
      get hashKey() {
        return ctx.hashKey;
      },
      eligible,
    };
    const b = this.#strategy.pick(pool.members(), withEligible) as Backend | undefined;
    return b && eligible(b) ? b : undefined;
  }

  /** Count the request out of flight and feed its outcome to the strategy. */
  release(backend: Backend, feedback: Feedback): void {
    this.pool.give(backend);
    backend.requests++;
    if (!feedback.ok) backend.errors++;
    this.#strategy.observe?.(backend, feedback);
  }

  /** Tell the strategy a backend left for good. */
  forget(name: string): void {
    this.#strategy.forget?.(name);
  }
}
