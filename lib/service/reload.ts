/**
 * Hot reload of the whole proxy: read and validate the config file, then apply it. An invalid
 * file changes nothing. A valid one is applied in two steps:
 *
 * 1. services the file adds are built and get their first health round, while nothing routes to
 *    them yet (bounded by their health check timeout), so a new route never meets an unprobed
 *    pool;
 * 2. then, in one synchronous step, kept services take their new settings (lib/pool/reload.ts),
 *    the new route table and config replace the old ones, and removed services retire: they
 *    take no new request and finish the ones in flight.
 *
 * Listener addresses and discovery settings cannot change without a restart: a change is
 * reported, not applied.
 *
 * @module
 */

import type { Logger } from "../base/mod.ts";
import type { Config, ConfigResult } from "../config/mod.ts";
import type { ResilienceMetrics } from "../metrics/mod.ts";
import type { PoolReport } from "../pool/mod.ts";
import type { ServiceSet } from "./services.ts";

/** What a reload changed. */
export interface ReloadReport {
  /**
   * Backends added, removed and updated, by name; qualified as `service/backend` when the config
   * has several services.
   */
  readonly added: string[];
  readonly removed: string[];
  readonly updated: string[];
  readonly servicesAdded: readonly string[];
  readonly servicesRemoved: readonly string[];
  /** Per kept service: its strategy after the reload, before it when changed, and a retune. */
  readonly strategies: ReadonlyMap<string, PoolReport["strategy"]>;
  /** Keys that changed but only take effect after a restart (listener addresses, discovery, workers). */
  readonly restartRequired: string[];
}

/** Outcome of {@linkcode reloadFrom}. */
export type ReloadResult = { ok: true; report: ReloadReport } | { ok: false; errors: string[] };

/** A running proxy's reload entry point: where the config comes from and what it changes. */
export interface Reloader {
  readonly services: ServiceSet;
  readonly resilience: ResilienceMetrics;
  readonly log: Logger;
  /** Reads and validates the config file. */
  readonly source: () => Promise<ConfigResult>;
  readonly current: () => Config;
  /** Swap in the new config (and with it the route table); called in the synchronous step. */
  readonly swap: (config: Config) => void;
  /**
   * Read what the new config names outside itself (the TLS certificate) and take it into use;
   * errors fail the reload before anything else changes.
   */
  readonly prepare?: (next: Config) => Promise<string[]>;
}

const sameListen = (a: Config["listen"], b: Config["listen"]) =>
  a.hostname === b.hostname && a.port === b.port;

/**
 * What a running proxy takes of a reloaded config `next`: everything but what needs a restart
 * (listener addresses, the TLS listener's ALPN, discovery, `workers`), which stays as in `prev`.
 */
export function inEffect(prev: Config, next: Config): Config {
  return {
    ...next,
    listen: prev.listen,
    admin: { ...next.admin, listen: prev.admin.listen },
    discovery: prev.discovery,
    workers: prev.workers,
    // The TLS listener keeps its address and ALPN; its certificate and redirect follow the file.
    tls: prev.tls && next.tls ? { ...next.tls, listen: prev.tls.listen, http2: prev.tls.http2 } : prev.tls,
  };
}

/**
 * Read, validate and apply the config file. On any error the running config stays as it is,
 * the errors are logged and returned, `lb_config_reloads_total{result="failure"}` counts it and
 * `lb_config_last_reload_successful` turns 0 until a reload succeeds.
 */
export async function reloadFrom(r: Reloader): Promise<ReloadResult> {
  let result: ConfigResult;
  try {
    result = await r.source();
  } catch (e) {
    result = { ok: false, errors: [`cannot read config: ${(e as Error).message}`] };
  }
  if (!result.ok) {
    r.resilience.reloaded(false);
    r.log("error", "config reload failed; keeping the running config", { errors: result.errors });
    return { ok: false, errors: result.errors };
  }
  const next = result.config;
  const prepared = (await r.prepare?.(next)) ?? [];
  if (prepared.length > 0) {
    r.resilience.reloaded(false);
    r.log("error", "config reload failed; keeping the running config", { errors: prepared });
    return { ok: false, errors: prepared };
  }
  const plan = r.services.plan(next);
  await Promise.all(plan.added.map((s) => s.health.firstRound()));

  // From here on, synchronous: no request sees half of the new config.
  const prev = r.current();
  const done = r.services.commit(plan, next.services.map((s) => s.name));
  r.swap(inEffect(prev, next));
  const qualify = next.services.length > 1 || prev.services.length > 1;
  const names = (pick: (p: PoolReport) => string[]) =>
    [...done.pools].flatMap(([service, p]) => pick(p).map((b) => qualify ? `${service}/${b}` : b));
  const restartRequired: string[] = [];
  if (!sameListen(prev.listen, next.listen)) restartRequired.push("listen");
  if (!sameListen(prev.admin.listen, next.admin.listen)) restartRequired.push("admin.listen");
  if (JSON.stringify(prev.discovery) !== JSON.stringify(next.discovery)) restartRequired.push("discovery");
  if (prev.workers !== next.workers) restartRequired.push("workers");
  const tlsShape = (c: Config) => c.tls && JSON.stringify([c.tls.listen, c.tls.http2]);
  if (tlsShape(prev) !== tlsShape(next)) restartRequired.push("tls.listen");
  const report: ReloadReport = {
    added: names((p) => p.added),
    removed: names((p) => p.removed),
    updated: names((p) => p.updated),
    servicesAdded: done.added,
    servicesRemoved: done.removed,
    strategies: new Map([...done.pools].map(([s, p]) => [s, p.strategy])),
    restartRequired,
  };
  r.resilience.reloaded(true);
  r.log("info", "config reloaded", {
    added: report.added,
    removed: report.removed,
    updated: report.updated,
    services_added: done.added.length ? done.added : undefined,
    services_removed: done.removed.length ? done.removed : undefined,
  });
  const listeners = restartRequired.filter((k) => k !== "discovery" && k !== "workers");
  if (listeners.length > 0) {
    r.log("warn", "listener address changes need a restart; still listening on the old addresses", {
      keys: listeners,
    });
  }
  if (restartRequired.includes("discovery")) {
    r.log("warn", "discovery changes need a restart; discovery keeps its old settings");
  }
  if (restartRequired.includes("workers")) {
    r.log("warn", "a workers change needs a restart; the running isolates stay", {
      running: prev.workers,
      configured: next.workers,
    });
  }
  return { ok: true, report };
}
