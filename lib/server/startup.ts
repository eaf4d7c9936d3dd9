/**
 * The owner isolate's way from built to listening: warm up (discovery's first listing, one round
 * of health checks), record the ports bound, start the workers; and, when a step fails, close
 * everything opened so far.
 *
 * @module
 */

import type { Logger } from "../base/mod.ts";
import type { WorkerSet } from "../cluster/mod.ts";
import type { Config } from "../config/mod.ts";
import { type DiscoverySink, type DockerLink, startDiscovery, warnIfBlind } from "../docker/mod.ts";
import type { ServiceSet } from "../service/mod.ts";
import { ListenError } from "./listen.ts";
import { closeOwned, type Owned } from "./owner.ts";
import type { Parts } from "./parts.ts";
import type { PublicListeners } from "./public.ts";

/**
 * Before the public listener opens: discovery's first listing (bounded by `discoveryWaitMs`), then
 * one round of health checks of everything known, then the periodic checks.
 *
 * Why: so no request ever meets an unprobed pool.
 */
export async function warmUp(
  services: ServiceSet,
  sink: DiscoverySink,
  docker: DockerLink,
  config: Config,
  discoveryWaitMs: number,
  log: Logger,
): Promise<void> {
  await startDiscovery(docker, sink, config, discoveryWaitMs, log);
  warnIfBlind(config, log);
  await Promise.all(services.all().map((s) => s.health.firstRound()));
  for (const s of services.all()) {
    s.health.start();
    s.pool.markStarted();
    const eligible = s.pool.eligible().length;
    log(eligible > 0 ? "info" : "warn", "first health check round done", {
      service: s.name,
      eligible,
      total: s.pool.all().length,
    });
  }
}

/**
 * Put the ports actually bound into the config in effect.
 *
 * Why: port 0 means "any free port": a reload of the same file must compare against the address
 * in use, and workers must join the same port.
 */
export function recordBoundPorts(parts: Parts, listeners: PublicListeners, adminAddr: Deno.NetAddr): void {
  const { proxy, tls } = listeners;
  const current = parts.config();
  parts.swap({
    ...current,
    listen: { ...current.listen, port: proxy.addr.port },
    admin: { ...current.admin, listen: { ...current.admin.listen, port: adminAddr.port } },
    tls: current.tls && tls
      ? { ...current.tls, listen: { ...current.tls.listen, port: tls.server.addr.port } }
      : null,
  });
}

/**
 * Start the worker isolates (if any) and wait until each listens.
 *
 * Why: a worker that cannot start fails startup like the owner's own bind failure, as a
 * {@linkcode ListenError} with one line to print (the workers started are stopped again).
 */
export async function startWorkers(peers: WorkerSet | undefined): Promise<void> {
  await peers?.start().catch((e) => {
    throw e instanceof ListenError ? e : new ListenError((e as Error).message);
  });
}

/**
 * Close what a failed startup opened: the public listeners, then {@linkcode closeOwned}.
 *
 * Why: startup's contract is that nothing started is left running when it throws.
 */
export async function abandonStartup(listeners: PublicListeners | undefined, owned: Owned): Promise<void> {
  listeners?.tls?.server.close();
  listeners?.proxy.close();
  await closeOwned(owned);
}
