/**
 * The entry point of a worker isolate (`workers` > 1): the owner isolate starts this module with
 * `new Worker(...)` (lib/cluster/workers.ts) and sends it an init message; the worker builds the
 * same proxy as the owner from the owner's config, mirrors the owner's backend state, and accepts
 * on the owner's public addresses with its own `SO_REUSEPORT` sockets.
 *
 * What a worker does not do, because the owner does it once for all: health checks, passive
 * ejections (it counts failures and asks), the admin listener, reading the config file, Docker
 * discovery and container stats, process metrics.
 *
 * @module
 */

import { Registry } from "prom-client";
import { AccessLog } from "../access_log/mod.ts";
import {
  applySnapshot,
  type InitMessage,
  MirrorStats,
  ownerLogger,
  reportOf,
  serveOwner,
  type WorkerHandlers,
  type WorkerScope,
} from "../cluster/mod.ts";
import { buildParts, type Parts } from "./parts.ts";
import { drainAll, openPublic, type PublicListeners } from "./public.ts";

/** Serve the owner on `scope` (the worker's `self`) until it ends this isolate. */
export function runWorker(scope: WorkerScope): void {
  const samples = new MirrorStats();
  const log = ownerLogger(scope);
  let running: { init: InitMessage; parts: Parts; listeners: PublicListeners } | undefined;
  const the = () => {
    if (!running) throw new Error("not started: the first message must be init");
    return running;
  };
  const handlers: WorkerHandlers = {
    async init(init) {
      // The owner's clock, so stats windows and container samples line up across isolates.
      const offset = performance.timeOrigin - init.timeOrigin;
      const now = () => performance.now() + offset;
      const registry = new Registry();
      // Its own writer on the owner's path: appends of whole batches never split a line (docs/workers.md).
      const accessLog = await AccessLog.open(init.config.accessLog, { registry, log });
      const parts = buildParts(init.config, {
        accessLog,
        registry,
        log,
        now,
        random: Math.random,
        processMetrics: false,
        containers: { track: () => {}, untrack: () => {}, stats: samples },
        mirror: {
          eject: (service, b) => scope.postMessage({ type: "eject", service, backend: b.name, url: b.url }),
        },
      });
      applySnapshot(parts.services, parts.services.sink, init.snapshot);
      for (const s of parts.services.all()) s.pool.markStarted();
      const listeners = await openPublic(parts, { log, now, share: "join", pair: init.pair });
      running = { init, parts, listeners };
    },
    async sync(config, snapshot) {
      const { services, swap, accessLog } = the().parts;
      if (config) {
        // The owner opened the same path first, so this fails only if the file went meanwhile.
        const error = await accessLog.apply(config.accessLog);
        if (error) log("error", "access log not reopened after a reload", { error });
        services.commit(services.plan(config), config.services.map((s) => s.name));
        swap(config);
      }
      applySnapshot(services, services.sink, snapshot);
    },
    async rotate(pair) {
      const { parts, listeners } = the();
      const tls = parts.config().tls;
      const error = tls && listeners.tls ? await listeners.tls.use(pair, tls) : undefined;
      if (error) throw new Error(error);
    },
    async reopen() {
      await the().parts.accessLog.reopen();
    },
    async metrics() {
      return (await the().parts.metrics.registry.getMetricsAsJSON()) as never;
    },
    report() {
      const { init, parts } = the();
      return reportOf(parts.services, parts.unrouted, init.worker, 0);
    },
    async shutdown() {
      const { parts, listeners } = the();
      await drainAll(listeners, parts.config().shutdownTimeoutMs, log);
      parts.services.stop();
      parts.client.close();
      await parts.accessLog.close();
    },
  };
  serveOwner(scope, handlers, samples);
}

if (import.meta.main && "WorkerGlobalScope" in globalThis) runWorker(globalThis as unknown as WorkerScope);
