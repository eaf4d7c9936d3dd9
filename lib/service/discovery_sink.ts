/**
 * Discovered backends into their services: the discovery sink routes each container to the
 * service its `lb.service` label names, and joins it through the same path a reload uses
 * (lib/pool/membership.ts), so a discovered backend is probed before it gets traffic and drains
 * when its container stops.
 *
 * Discovery owns only the backends it added: a container whose name is taken by a backend from
 * the config file is skipped (the file wins), and `remove` never touches config backends. A
 * container naming a service the config does not have is skipped, said once per service name.
 *
 * @module
 */

import type { Logger } from "../base/mod.ts";
import type { BackendSpec, DiscoverySink } from "../docker/mod.ts";
import {
  differs,
  joinBackend,
  leaveBackend,
  type MembershipTarget,
  sameOrigin,
  updateBackend,
} from "../pool/mod.ts";

/**
 * A sink over the services `lookup` finds by name.
 *
 * @example
 * ```ts
 * const sink = serviceSink((name) => services.get(name), log);
 * createDockerDiscovery({ sink });
 * ```
 */
export function serviceSink(
  lookup: (service: string) => MembershipTarget | undefined,
  log: Logger,
): DiscoverySink {
  const unknown = new Set<string>();
  const target = (spec: BackendSpec) => {
    const t = lookup(spec.service);
    if (!t && !unknown.has(spec.service)) {
      unknown.add(spec.service);
      log("warn", "docker discovery: container skipped, no such service in the config", {
        backend: spec.name,
        service: spec.service,
      });
    }
    return t;
  };
  return {
    upsert(spec) {
      const t = target(spec);
      if (!t) return;
      const existing = t.pool.get(spec.name);
      if (existing?.source === "config") {
        log("warn", "docker discovery: container skipped, a configured backend has its name", {
          service: spec.service,
          backend: spec.name,
        });
        return;
      }
      if (existing && sameOrigin(existing, spec)) {
        if (differs(existing, spec)) updateBackend(t, existing, spec);
        return;
      }
      if (existing) leaveBackend(t, spec.name);
      joinBackend(t, spec, "discovery");
      log("info", "backend discovered", { service: spec.service, backend: spec.name, url: spec.url });
    },
    remove(spec) {
      const t = lookup(spec.service);
      if (t?.pool.get(spec.name)?.source !== "discovery") return;
      leaveBackend(t, spec.name);
      log("info", "discovered backend leaving", { service: spec.service, backend: spec.name });
    },
  };
}
