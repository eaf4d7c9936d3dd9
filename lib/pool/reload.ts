/**
 * Hot reload: apply a new, already validated config to a running proxy in one synchronous step.
 *
 * The file is parsed and validated before anything changes; an invalid file changes nothing.
 * A valid one is applied without an `await`, so no request ever sees half of it:
 *
 * - a backend kept under the same name and URL keeps its object, hence its in-flight count,
 *   health, passive-failure history and every strategy's state for it; weight and
 *   `max_connections` changes apply to it in place;
 * - a backend whose URL changed is removed and added again under its name;
 * - a removed backend takes no new request but finishes the ones in flight; its metric series
 *   disappear when the last one ends;
 * - a new backend starts `unknown` and is probed at once: it gets traffic only after its first
 *   check passes (then ramps up with slow start);
 * - backends found by Docker discovery are not the file's: a reload keeps them, unless the file
 *   now lists a backend of the same name, which replaces the discovered one;
 * - discovery settings cannot change without a restart: a change is reported, not applied;
 * - a strategy change in the file switches strategy; an unchanged one leaves alone a strategy
 *   set at run time through the admin API;
 * - listener addresses cannot move without a restart: a change is reported, not applied.
 *
 * @module
 */

import type { Balancer } from "./balancer.ts";
import type { Config, ConfigResult } from "../config/mod.ts";
import type { Logger } from "../base/mod.ts";
import { differs, joinBackend, leaveBackend, type MembershipTarget, updateBackend } from "./membership.ts";
import type { RetryBudget, SlowStartClock, WaitQueue } from "../resilience/mod.ts";

/** The parts of a running proxy a reload changes. */
export interface ReloadTarget extends MembershipTarget {
  readonly balancer: Balancer;
  readonly budget: RetryBudget;
  readonly queue: WaitQueue;
  readonly slowStart: SlowStartClock;
}

/** What a reload changed. */
export interface ReloadReport {
  readonly added: string[];
  readonly removed: string[];
  readonly updated: string[];
  /** Strategy after the reload, and before when it changed. */
  /** `retuned`: new `peak_ewma` / `least_resources` tuning rebuilt the current strategy. */
  readonly strategy: { readonly current: string; readonly previous?: string; readonly retuned: boolean };
  /** Keys that changed but only take effect after a restart (listener addresses). */
  readonly restartRequired: string[];
}

/** Outcome of {@linkcode reloadFrom}. */
export type ReloadResult = { ok: true; report: ReloadReport } | { ok: false; errors: string[] };

const sameListen = (a: Config["listen"], b: Config["listen"]) =>
  a.hostname === b.hostname && a.port === b.port;

/**
 * Apply `next` over `prev`. Synchronous on purpose: see the module documentation.
 *
 * @returns what changed; the caller swaps its config reference to `next` (with the listener
 *   addresses and discovery settings of `prev`, which stay in effect).
 */
export function applyConfig(t: ReloadTarget, prev: Config, next: Config): ReloadReport {
  const { pool, balancer } = t;
  const added: string[] = [];
  const removed: string[] = [];
  const updated: string[] = [];
  const wanted = new Map(next.backends.map((b) => [b.name, b]));
  for (const b of [...pool.all()]) {
    const spec = wanted.get(b.name);
    // Discovered backends belong to discovery, unless the file now claims the name.
    if (b.source === "discovery" ? !spec : spec && spec.url === b.url) continue;
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
  t.budget.configure(next.retries.budget, next.retries.minPerSecond);
  t.queue.max = next.queue.max;
  t.slowStart.windowMs = next.slowStartMs;

  const restartRequired: string[] = [];
  if (!sameListen(prev.listen, next.listen)) restartRequired.push("listen");
  if (!sameListen(prev.admin.listen, next.admin.listen)) restartRequired.push("admin.listen");
  if (JSON.stringify(prev.discovery) !== JSON.stringify(next.discovery)) restartRequired.push("discovery");
  // A name removed and added again (new URL, or a discovered backend the file now claims) is
  // reported once, as updated.
  return {
    added: added.filter((n) => !removed.includes(n)),
    removed: removed.filter((n) => !added.includes(n)),
    updated: [...updated, ...removed.filter((n) => added.includes(n))],
    strategy: { current: balancer.strategy, previous, retuned },
    restartRequired,
  };
}

/** A running proxy's reload entry point: where the config comes from and how it is swapped. */
export interface Reloader {
  readonly target: ReloadTarget;
  readonly log: Logger;
  /** Reads and validates the config file. */
  readonly source: () => Promise<ConfigResult>;
  readonly current: () => Config;
  readonly swap: (config: Config) => void;
}

/**
 * Read, validate and apply the config file. On any error the running config stays as it is,
 * the errors are logged and returned, and `lb_config_reloads_total{result="failure"}` counts it.
 */
export async function reloadFrom(r: Reloader): Promise<ReloadResult> {
  let result: ConfigResult;
  try {
    result = await r.source();
  } catch (e) {
    result = { ok: false, errors: [`cannot read config: ${(e as Error).message}`] };
  }
  const counter = r.target.resilience.reloads;
  if (!result.ok) {
    counter.inc({ result: "failure" });
    r.log("error", "config reload failed; keeping the running config", { errors: result.errors });
    return { ok: false, errors: result.errors };
  }
  const prev = r.current();
  const report = applyConfig(r.target, prev, result.config);
  r.swap({
    ...result.config,
    listen: prev.listen,
    admin: { ...result.config.admin, listen: prev.admin.listen },
    discovery: prev.discovery,
  });
  counter.inc({ result: "success" });
  r.log("info", "config reloaded", {
    added: report.added,
    removed: report.removed,
    updated: report.updated,
    strategy: report.strategy.current,
  });
  const listeners = report.restartRequired.filter((k) => k !== "discovery");
  if (listeners.length > 0) {
    r.log("warn", "listener address changes need a restart; still listening on the old addresses", {
      keys: listeners,
    });
  }
  if (listeners.length < report.restartRequired.length) {
    r.log("warn", "discovery changes need a restart; discovery keeps its old settings");
  }
  return { ok: true, report };
}
