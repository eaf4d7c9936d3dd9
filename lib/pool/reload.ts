/**
 * Hot reload of one pool: apply a service's new, already validated config to its running parts
 * in one synchronous step.
 *
 * The file is parsed and validated before anything changes; an invalid file changes nothing.
 * A valid one is applied without an `await`, so no request ever sees half of it:
 *
 * - a backend kept under the same name, URL and TLS settings keeps its object, hence its
 *   in-flight count, health, passive-failure history and every strategy's state for it; weight
 *   and `max_connections` changes apply to it in place;
 * - a backend whose URL or TLS settings changed (a CA file whose content changed too) is removed
 *   and added again under its name: probed with the new settings before it takes traffic, and
 *   never handed a connection made under the old ones;
 * - a removed backend takes no new request but finishes the ones in flight; its metric series
 *   disappear when the last one ends;
 * - a new backend starts `unknown` and is probed at once: it gets traffic only after its first
 *   check passes (then ramps up with slow start);
 * - backends found by Docker discovery are not the file's: a reload keeps them, unless the file
 *   now lists a backend of the same name, which replaces the discovered one;
 * - a strategy change in the file switches strategy; an unchanged one leaves alone a strategy
 *   set at run time through the admin API.
 *
 * Services and routes as a whole, listeners and discovery are the server's (lib/server/reload.ts).
 *
 * @module
 */

import type { ServiceConfig } from "../config/mod.ts";
import type { RetryBudget, SlowStartClock, WaitQueue } from "../resilience/mod.ts";
import type { Balancer } from "./balancer.ts";
import type { Prober } from "./prober.ts";
import {
  differs,
  joinBackend,
  leaveBackend,
  type MembershipTarget,
  sameOrigin,
  updateBackend,
} from "./membership.ts";

/** The parts of a running pool a reload changes. */
export interface ReloadTarget extends MembershipTarget {
  readonly balancer: Balancer;
  readonly budget: RetryBudget;
  readonly queue: WaitQueue;
  readonly slowStart: SlowStartClock;
  /** Probes for `prequal`; absent: nothing to configure. */
  readonly prober?: Prober;
}

/** What a reload changed in one pool. */
export interface PoolReport {
  readonly added: string[];
  readonly removed: string[];
  readonly updated: string[];
  /** Strategy after the reload, and before when it changed. */
  /** `retuned`: new `peak_ewma`, `least_resources` or `prequal.q_rif` tuning rebuilt the current strategy. */
  readonly strategy: { readonly current: string; readonly previous?: string; readonly retuned: boolean };
}

/**
 * Apply `next` over `prev`. Synchronous on purpose: see the module documentation.
 *
 * @returns what changed
 */
export function applyServiceConfig(t: ReloadTarget, prev: ServiceConfig, next: ServiceConfig): PoolReport {
  const { pool, balancer } = t;
  const added: string[] = [];
  const removed: string[] = [];
  const updated: string[] = [];
  const wanted = new Map(next.backends.map((b) => [b.name, b]));
  for (const b of [...pool.all()]) {
    const spec = wanted.get(b.name);
    // Discovered backends belong to discovery, unless the file now claims the name.
    if (b.source === "discovery" ? !spec : spec && sameOrigin(b, spec)) continue;
    leaveBackend(t, b.name);
    removed.push(b.name);
  }
  for (const spec of next.backends) {
    const kept = pool.get(spec.name);
    if (kept) {
      if (differs(kept, spec)) {
        updateBackend(t, kept, spec);
        updated.push(spec.name);
      }
      continue;
    }
    joinBackend(t, spec, "config");
    added.push(spec.name);
  }

  let previous: string | undefined;
  if (next.strategy !== prev.strategy && next.strategy !== balancer.strategy) {
    previous = balancer.strategy;
    balancer.setStrategy(next.strategy);
  }
  const retuned = balancer.retune(next.tuning);
  t.health.configure(next.healthCheck);
  t.prober?.configure(next.prequal, next.healthCheck);
  t.budget.configure(next.retries.budget, next.retries.minPerSecond);
  t.queue.max = next.queue.max;
  t.slowStart.windowMs = next.slowStartMs;
  // A name removed and added again (new URL, or a discovered backend the file now claims) is
  // reported once, as updated.
  return {
    added: added.filter((n) => !removed.includes(n)),
    removed: removed.filter((n) => !added.includes(n)),
    updated: [...updated, ...removed.filter((n) => added.includes(n))],
    strategy: { current: balancer.strategy, previous, retuned },
  };
}
