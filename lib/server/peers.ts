/**
 * The owner isolate's side of the worker isolates (`workers` > 1) before they start: the
 * {@linkcode WorkerSet}, and the discovery sink that tells them about every backend found.
 *
 * @module
 */

import type { Registry } from "prom-client";
import type { ResourceStats } from "../../algorithms/mod.ts";
import type { Logger } from "../base/mod.ts";
import { WorkerSet } from "../cluster/mod.ts";
import type { DiscoverySink } from "../docker/mod.ts";
import type { Parts } from "./parts.ts";
import type { TlsPair } from "./tls.ts";

/** What {@linkcode createPeers} needs besides the parts. */
export interface PeersOptions {
  /** Isolates in all, the owner included (more than 1). */
  readonly isolates: number;
  /** The worker module. @default lib/server/worker.ts */
  readonly url?: URL;
  readonly registry: Registry;
  readonly stats: ResourceStats;
  /** The TLS pair the owner serves, once its TLS listener is open. */
  readonly pair: () => TlsPair | undefined;
  readonly log: Logger;
  readonly now: () => number;
}

/**
 * The worker isolates, not started yet: they start last, on the addresses the owner bound.
 *
 * Why: the admin API and the discovery sink need them before the listeners open, while what a
 * worker starts from (the config with the bound ports, the TLS pair) exists only after.
 */
export function createPeers(parts: Parts, o: PeersOptions): WorkerSet {
  return new WorkerSet({
    isolates: o.isolates,
    url: o.url ?? new URL("./worker.ts", import.meta.url),
    services: parts.services,
    registry: o.registry,
    unrouted: parts.unrouted,
    stats: o.stats,
    start: () => ({ config: parts.config(), pair: o.pair() }),
    log: o.log,
    now: o.now,
  });
}

/**
 * The discovery sink: the services' own, or with workers one that tells them after every change.
 *
 * Why: workers take discovered backends from the owner, so each change must reach them.
 */
export function discoverySink(parts: Parts, peers: WorkerSet | undefined): DiscoverySink {
  const sink = parts.services.sink;
  if (!peers) return sink;
  return {
    upsert(spec) {
      sink.upsert(spec);
      peers.changed();
    },
    remove(spec) {
      sink.remove(spec);
      peers.changed();
    },
  };
}
