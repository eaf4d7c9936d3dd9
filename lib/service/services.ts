/**
 * The running services by name, and the three moves a reload makes on them: services the new
 * config adds are built and probed before anything routes to them, kept ones take their new
 * settings in place, removed ones retire (their in-flight requests finish).
 *
 * @module
 */

import type { Config, ServiceConfig } from "../config/mod.ts";
import type { DiscoverySink } from "../docker/mod.ts";
import type { PoolReport } from "../pool/mod.ts";
import { serviceSink } from "./discovery_sink.ts";
import { Service, type ServiceRuntime } from "./service.ts";

/** What a reload will do to the services, before it does it. */
export interface ServicesPlan {
  /** Built and probed, not yet part of the set. */
  readonly added: readonly Service[];
  readonly kept: readonly (readonly [Service, ServiceConfig])[];
  readonly removed: readonly Service[];
}

/** What a reload did to the services. */
export interface ServicesReport {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Per kept service, what changed in its pool. */
  readonly pools: ReadonlyMap<string, PoolReport>;
}

/** The running services. */
export class ServiceSet {
  #byName = new Map<string, Service>();
  #all: readonly Service[] = [];
  readonly #rt: ServiceRuntime;
  /** Where discovered backends enter and leave, routed to their service by name. */
  readonly sink: DiscoverySink;

  constructor(configs: readonly ServiceConfig[], rt: ServiceRuntime) {
    this.#rt = rt;
    for (const c of configs) this.#byName.set(c.name, new Service(c, rt));
    this.#all = [...this.#byName.values()];
    this.sink = serviceSink((name) => this.#byName.get(name), rt.log);
  }

  /** The service named `name`. */
  get(name: string): Service | undefined {
    return this.#byName.get(name);
  }

  /** Every service, in config order. */
  all(): readonly Service[] {
    return this.#all;
  }

  /** Build (but do not add) the services `next` adds; see {@linkcode ServiceSet.commit}. */
  plan(next: Config): ServicesPlan {
    const wanted = new Set(next.services.map((s) => s.name));
    const added: Service[] = [];
    const kept: [Service, ServiceConfig][] = [];
    for (const c of next.services) {
      const running = this.#byName.get(c.name);
      if (running) kept.push([running, c]);
      else added.push(new Service(c, this.#rt));
    }
    return { added, kept, removed: this.#all.filter((s) => !wanted.has(s.name)) };
  }

  /**
   * Apply a plan in one synchronous step: kept services take their settings, added ones join
   * (their periodic probes start), removed ones retire. `order` is the new config's service order.
   */
  commit(plan: ServicesPlan, order: readonly string[]): ServicesReport {
    const pools = new Map<string, PoolReport>();
    for (const [s, c] of plan.kept) pools.set(s.name, s.apply(c));
    for (const s of plan.added) {
      this.#byName.set(s.name, s);
      s.health.start();
      s.pool.markStarted();
    }
    for (const s of plan.removed) {
      this.#byName.delete(s.name);
      s.retire();
    }
    this.#all = order.map((name) => this.#byName.get(name)!);
    return { added: plan.added.map((s) => s.name), removed: plan.removed.map((s) => s.name), pools };
  }

  /** Drop a plan that will not be committed (its services were never reachable). */
  abandon(plan: ServicesPlan): void {
    for (const s of plan.added) s.retire();
  }

  /** Stop every service's timers (shutdown). */
  stop(): void {
    for (const s of this.#all) s.stop();
  }
}
