/**
 * Discovered backends into the pool: adapts the pool to discovery's `DiscoverySink` through the
 * same join and leave path a reload uses (`membership.ts`), so a discovered backend is probed
 * before it gets traffic and drains when its container stops.
 *
 * Discovery owns only the backends it added: a container whose name is taken by a backend from
 * the config file is skipped (the file wins), and `remove` never touches config backends.
 *
 * @module
 */

import type { DiscoverySink } from "./discovery.ts";
import type { Logger } from "../base/mod.ts";
import { differs, joinBackend, leaveBackend, type MembershipTarget, updateBackend } from "../pool/mod.ts";

/**
 * A sink that adds discovered backends to the pool and removes them again.
 *
 * @example
 * ```ts
 * const sink = poolSink({ pool, balancer, health, metrics, resilience, containers }, log);
 * createDockerDiscovery({ sink });
 * ```
 */
export function poolSink(t: MembershipTarget, log: Logger): DiscoverySink {
  return {
    upsert(spec) {
      const existing = t.pool.get(spec.name);
      if (existing?.source === "config") {
        log("warn", "docker discovery: container skipped, a configured backend has its name", {
          backend: spec.name,
        });
        return;
      }
      if (existing && existing.url === spec.url) {
        if (differs(existing, spec)) updateBackend(t, existing, spec);
        return;
      }
      if (existing) leaveBackend(t, spec.name);
      joinBackend(t, spec, "discovery");
      log("info", "backend discovered", { backend: spec.name, url: spec.url, weight: spec.weight });
    },
    remove(name) {
      if (t.pool.get(name)?.source !== "discovery") return;
      leaveBackend(t, name);
      log("info", "discovered backend leaving", { backend: name });
    },
  };
}
