/**
 * What the owner isolate builds before anything listens, and closes again: its access log, its
 * parts with the lazy Docker link, and the admin listener (the workers are lib/server/peers.ts).
 * lib/server/start.ts calls these steps in order and holds what they return.
 *
 * @module
 */

import type { Registry } from "prom-client";
import { AccessLog, type AccessRecord, type Sink } from "../access_log/mod.ts";
import type { ResourceStats } from "../../algorithms/mod.ts";
import { createAdminHandler } from "../admin/mod.ts";
import type { Logger } from "../base/mod.ts";
import type { WorkerSet } from "../cluster/mod.ts";
import { type Config, needsDocker } from "../config/mod.ts";
import { type DockerApi, type DockerLink, lazyDocker } from "../docker/mod.ts";
import type { AccessSink } from "../proxy/mod.ts";
import type { ReloadResult } from "../service/mod.ts";
import { listenAdmin, ListenError } from "./listen.ts";
import { buildParts, type Parts, type PartsOptions } from "./parts.ts";

/**
 * Open the access log `config` describes.
 *
 * Why: a log file that cannot be opened stops startup like an address that cannot be bound, with
 * one line to print and nothing started yet.
 *
 * @throws {ListenError} naming `access_log.path`
 */
export async function openAccessLog(
  config: Config,
  o: { registry: Registry; log: Logger; open?: (path: string) => Promise<Sink> },
): Promise<AccessLog> {
  try {
    return await AccessLog.open(config.accessLog, o);
  } catch (e) {
    throw new ListenError((e as Error).message);
  }
}

/** The embedder's choices {@linkcode buildOwnerParts} takes (StartOptions has them all). */
export interface OwnerChoices {
  /** @default Math.random */
  readonly random?: () => number;
  /** @default true */
  readonly processMetrics?: boolean;
  /** Container samples. @default the Docker link's */
  readonly stats?: ResourceStats;
  /** Docker Engine client. @default one on the config's socket, connected on first need */
  readonly docker?: DockerApi;
  readonly wallClock?: () => number;
  /** Also called with every proxied request's record. */
  readonly onRequest?: (record: AccessRecord) => void;
}

/** What {@linkcode buildOwnerParts} gets from the steps before it. */
export type OwnerPartsOptions = Pick<
  PartsOptions,
  "registry" | "log" | "now" | "accessLog" | "onStateChange"
>;

/** The owner's parts and the Docker link they track containers through. */
export interface OwnerParts {
  readonly parts: Parts;
  readonly docker: DockerLink;
  /** Container samples for `least_resources` (the workers get them too). */
  readonly stats: ResourceStats;
}

/**
 * Build the owner's parts on a lazy Docker link, then connect to Docker when the config needs it.
 *
 * Why: Docker is connected on first need only (lib/docker/link.ts): maybe while the services are
 * built, for a backend naming a container, so before `parts` exists; its socket is read from the
 * config in effect once there is one.
 */
export function buildOwnerParts(config: Config, choices: OwnerChoices, o: OwnerPartsOptions): OwnerParts {
  const { registry, log, now } = o;
  let inEffect = () => config;
  const docker = lazyDocker({
    socket: () => inEffect().discovery.docker.socket,
    docker: choices.docker,
    registry,
    log,
    now,
  });
  const stats = choices.stats ?? docker.stats;
  const parts = buildParts(config, {
    registry,
    log,
    now,
    random: choices.random ?? Math.random,
    processMetrics: choices.processMetrics ?? true,
    containers: { track: docker.track, untrack: docker.untrack, stats },
    accessLog: o.accessLog,
    records: recordsSink(o.accessLog, choices.onRequest),
    wallClock: choices.wallClock,
    onStateChange: o.onStateChange,
  });
  inEffect = parts.config;
  if (needsDocker(config)) docker.connect();
  return { parts, docker, stats };
}

/**
 * Where the handler's access-log records go: the access log, and `onRequest` when given.
 *
 * Why: `onRequest` sees every record whether or not the log is on; without it the log itself is
 * the sink, so a proxy with the log off builds no records at all.
 */
function recordsSink(
  accessLog: AccessLog,
  onRequest: ((record: AccessRecord) => void) | undefined,
): AccessSink {
  if (!onRequest) return accessLog;
  return {
    enabled: true,
    write: (record) => {
      if (accessLog.enabled) accessLog.write(record);
      onRequest(record);
    },
  };
}

/** What {@linkcode openAdmin} needs besides the config and the parts. */
export interface AdminListenerOptions {
  readonly log: Logger;
  /** `POST /api/reload`; without it, the admin API has no reload. */
  readonly reload?: () => Promise<ReloadResult>;
  /** The worker isolates, when `workers` > 1. */
  readonly cluster?: WorkerSet;
}

/**
 * Open the admin listener on `config.admin.listen`, answering for the owner's parts.
 *
 * Why: it opens first, before warm-up, so `/healthz` answers during startup.
 *
 * @throws {ListenError} when the address cannot be bound
 */
export function openAdmin(
  config: Config,
  parts: Parts,
  o: AdminListenerOptions,
): Deno.HttpServer<Deno.NetAddr> {
  const { services, metrics, unrouted } = parts;
  const handler = createAdminHandler({
    config: parts.config,
    services,
    metrics,
    log: o.log,
    reload: o.reload,
    unrouted,
    cluster: o.cluster,
  });
  return listenAdmin(config.admin.listen, handler, o.log);
}

/** What the owner closes at the end, whether startup failed or the proxy shuts down. */
export interface Owned {
  readonly parts: Parts;
  readonly docker: DockerLink;
  readonly admin: Deno.HttpServer<Deno.NetAddr>;
}

/**
 * Stop the services and close the upstream client, Docker, the admin listener and the access log.
 *
 * Why: startup's failure path and shutdown end the same way, in this order: the access log last,
 * so it takes every line written until then.
 */
export async function closeOwned({ parts, docker, admin }: Owned): Promise<void> {
  parts.services.stop();
  parts.client.close();
  await docker.close();
  await admin.shutdown();
  await parts.accessLog.close();
}
