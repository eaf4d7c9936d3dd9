/**
 * Wiring: {@linkcode startLoadBalancer} builds the parts (lib/server/parts.ts), opens the admin
 * listener, warms up (discovery, first health round), opens the public listeners (lib/server/public.ts),
 * starts the other workers when `workers` > 1 (lib/server/worker.ts is their entry point), and owns
 * graceful shutdown and hot reload. `main.ts` and the tests start the proxy through it. Its steps
 * live beside it: what the owner builds and closes (owner.ts), the workers (peers.ts), reload
 * (reload.ts), warm-up and the failure path (startup.ts), the running proxy and its shutdown
 * (running.ts).
 *
 * @module
 */

import { Registry } from "prom-client";
import type { AccessRecord, Sink } from "../access_log/mod.ts";
import type { ResourceStats } from "../../algorithms/mod.ts";
import { consoleLogger, type Logger } from "../base/mod.ts";
import type { WorkerSet } from "../cluster/mod.ts";
import { type Config, type ConfigResult, workerCount } from "../config/mod.ts";
import type { DockerApi } from "../docker/mod.ts";
import { buildOwnerParts, openAccessLog, openAdmin } from "./owner.ts";
import { createPeers, discoverySink } from "./peers.ts";
import { openPublic, type PublicListeners } from "./public.ts";
import { createReload } from "./reload.ts";
import { type LoadBalancer, logListening, type Running, runningProxy, shutdownOnce } from "./running.ts";
import { abandonStartup, recordBoundPorts, startWorkers, warmUp } from "./startup.ts";

export type { LoadBalancer } from "./running.ts";

/** Options for {@linkcode startLoadBalancer}; all optional. */
export interface StartOptions {
  /** The process's one metrics registry. @default a new Registry */
  registry?: Registry;
  /** @default consoleLogger("info") */
  log?: Logger;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
  /** Uniform random in [0, 1). @default Math.random */
  random?: () => number;
  /** Collect prom-client's process metrics. @default true */
  processMetrics?: boolean;
  /**
   * Where a reload reads the config from (the config file). Without it, reload answers that
   * there is no file to reload.
   */
  configSource?: () => Promise<ConfigResult>;
  /**
   * Container resource samples for `least_resources`. @default the Docker stats collector,
   * started when the config needs Docker
   */
  stats?: ResourceStats;
  /** Docker Engine client. @default connectDocker(discovery.docker.socket), only when the config needs Docker */
  docker?: DockerApi;
  /** How long startup waits for discovery's first listing before probing the pool. @default 2000 */
  discoveryWaitMs?: number;
  /**
   * The module each worker isolate runs when `workers` > 1; one of your own must call
   * `runWorker` from lib/server/worker.ts (a program embedding the proxy, a test wrapping it).
   * @default lib/server/worker.ts
   */
  workerModule?: URL;
  /** Opens the access log's file or standard output. @default openSink (lib/access_log) */
  openAccessLog?: (path: string) => Promise<Sink>;
  /**
   * Wall clock in ms since the Unix epoch (sticky cookie expiries). @default Date.now (always, in
   * worker isolates: a function cannot cross to them)
   */
  wallClock?: () => number;
  /**
   * Called with every proxied request's access-log record (whether or not the access log is on),
   * when its exchange is over: what the forwarder did, hedge and sticky cookie included. With
   * `workers` > 1, only the requests this (the owner) isolate answered.
   */
  onRequest?: (record: AccessRecord) => void;
}

/**
 * Start the proxy: admin listener first (so `/healthz` answers during startup), then one round
 * of health checks, then the public listeners, so no request ever meets an unprobed pool. With
 * `workers` > 1 this isolate is the owner (health checks, admin, reloads, discovery) and serves
 * traffic too; the other workers start last, on the addresses it bound (lib/cluster/).
 *
 * @throws {ListenError} when a listener's address cannot be bound (by this isolate or a worker);
 *   the message is one line naming the config key and the address, and nothing started is left
 *   running
 * @example
 * ```ts
 * import { parseConfig } from "../config/config.ts";
 * import { startLoadBalancer } from "./start.ts";
 * const r = parseConfig("listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\nbackends: [{url: http://127.0.0.1:9001}]");
 * if (r.ok) {
 *   const lb = await startLoadBalancer(r.config);
 *   await lb.shutdown();
 * }
 * ```
 */
export async function startLoadBalancer(config: Config, options: StartOptions = {}): Promise<LoadBalancer> {
  const log = options.log ?? consoleLogger("info");
  const now = options.now ?? (() => performance.now());
  const registry = options.registry ?? new Registry();
  const isolates = workerCount(config.workers, navigator.hardwareConcurrency);
  const accessLog = await openAccessLog(config, { registry, log, open: options.openAccessLog });
  // Each set once, after the closures that read them are built: the workers once the services
  // exist, the public listeners after warm-up.
  let peers: WorkerSet | undefined;
  let listeners: PublicListeners | undefined;
  const { parts, docker, stats } = buildOwnerParts(config, options, {
    registry,
    log,
    now,
    accessLog,
    // With one isolate there is nobody to tell: no listener at all.
    onStateChange: isolates > 1 ? () => peers?.changed() : undefined,
  });
  if (isolates > 1) {
    const pair = () => listeners?.tls?.served;
    peers = createPeers(parts, { isolates, url: options.workerModule, registry, stats, pair, log, now });
  }
  const sink = discoverySink(parts, peers);
  const reload = createReload(parts, { log, source: options.configSource, tls: () => listeners?.tls, peers });
  const admin = openAdmin(config, parts, {
    log,
    reload: options.configSource ? reload : undefined,
    cluster: peers,
  });
  try {
    await warmUp(parts.services, sink, docker, config, options.discoveryWaitMs ?? 2_000, log);
    listeners = await openPublic(parts, { log, now, share: peers ? "open" : undefined });
    recordBoundPorts(parts, listeners, admin.addr);
    await startWorkers(peers);
  } catch (e) {
    await abandonStartup(listeners, { parts, docker, admin });
    throw e;
  }
  const running: Running = { parts, docker, admin, listeners, peers, isolates, log };
  logListening(running);
  return runningProxy(running, { sink, reload, shutdown: shutdownOnce(running) });
}
