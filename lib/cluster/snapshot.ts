/**
 * Backend state from the owner isolate to the workers: the owner takes a snapshot of every
 * service (strategy, backend states, discovered backends), and a worker applies it to its own
 * services, which mirror the owner's (lib/service/ with `mirror` set).
 *
 * A snapshot is the whole state, not a change: a worker that applies the latest one has the
 * owner's state whatever it missed or applied before, and a worker started late (or again,
 * after a crash) needs nothing else.
 *
 * @module
 */

import type { DiscoverySink } from "../docker/mod.ts";
import type { ServiceSet } from "../service/mod.ts";
import type { Snapshot } from "./protocol.ts";

/** The owner's state of every service. */
export function snapshotOf(services: ServiceSet): Snapshot {
  return {
    services: services.all().map((s) => ({
      name: s.name,
      strategy: s.balancer.strategy,
      backends: s.pool.all().map((b) => ({
        name: b.name,
        url: b.url,
        state: b.state,
        discovered: b.source === "discovery"
          ? {
            service: s.name,
            name: b.name,
            url: b.url,
            weight: b.configuredWeight,
            container: b.container ?? "",
          }
          : undefined,
      })),
    })),
  };
}

/**
 * Make `services` (a worker's) match `snapshot`: each service's strategy, its discovered
 * backends (joined, updated or left through `sink`, as discovery itself does it), then every
 * backend's state. A backend is matched by name and URL, so a state meant for a backend the
 * owner has since replaced is never applied to its successor. `unknown` is never set: only a
 * backend's first check decides it, and the owner's next snapshot carries that.
 */
export function applySnapshot(services: ServiceSet, sink: DiscoverySink, snapshot: Snapshot): void {
  for (const m of snapshot.services) {
    const s = services.get(m.name);
    if (!s) continue;
    if (s.balancer.strategy !== m.strategy) s.balancer.setStrategy(m.strategy);
    const discovered = new Set<string>();
    for (const b of m.backends) {
      if (!b.discovered) continue;
      discovered.add(b.name);
      sink.upsert(b.discovered);
    }
    for (const b of [...s.pool.all()]) {
      if (b.source === "discovery" && !discovered.has(b.name)) {
        sink.remove({ service: s.name, name: b.name, url: b.url, weight: b.configuredWeight, container: "" });
      }
    }
    for (const b of m.backends) {
      const mine = s.pool.get(b.name);
      if (mine && mine.url === b.url && mine.state !== b.state && b.state !== "unknown") {
        s.pool.setState(mine, b.state);
      }
    }
  }
}
