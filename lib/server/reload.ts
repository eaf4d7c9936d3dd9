/**
 * Hot reload in the owner isolate: re-read the config source, take in use what the new config
 * names outside itself (the TLS certificate, the access log's path), swap it in, and tell the
 * workers; one reload at a time.
 *
 * @module
 */

import type { AccessLog } from "../access_log/mod.ts";
import type { Logger } from "../base/mod.ts";
import type { WorkerSet } from "../cluster/mod.ts";
import type { Config, ConfigResult } from "../config/mod.ts";
import { reloadFrom, type ReloadResult } from "../service/mod.ts";
import type { Parts } from "./parts.ts";
import type { TlsListener } from "./tls.ts";

/** What {@linkcode createReload} needs besides the parts. */
export interface ReloadOptions {
  readonly log: Logger;
  /** Where the config comes from (the config file); without it, a reload fails saying so. */
  readonly source?: () => Promise<ConfigResult>;
  /** The owner's TLS listener, once it is open. */
  readonly tls: () => TlsListener | undefined;
  /** The worker isolates, when `workers` > 1. */
  readonly peers: WorkerSet | undefined;
}

/**
 * The owner's reload: {@linkcode reloadFrom} on the parts, the workers told after a success.
 *
 * Why: SIGHUP, `POST /api/reload` and the tests all go through this one function, serialized, so
 * two reloads never interleave their certificate rotations or swaps.
 */
export function createReload(parts: Parts, o: ReloadOptions): () => Promise<ReloadResult> {
  const { peers } = o;
  return serializeReloads(async () => {
    const result = await reloadFrom({
      services: parts.services,
      resilience: parts.resilience,
      log: o.log,
      source: o.source ?? noConfigFile,
      current: parts.config,
      swap: parts.swap,
      prepare: (next) => takeInUse(next, o.tls(), parts.accessLog, peers),
    });
    if (result.ok) await peers?.reloaded();
    return result;
  });
}

/** The source of a proxy started without one. */
function noConfigFile(): Promise<ConfigResult> {
  return Promise.resolve({ ok: false, errors: ["no config file to reload from"] } as ConfigResult);
}

/**
 * A reload's `prepare` step: rotate the TLS certificate (the owner's, then the workers'), then
 * apply the new `access_log`.
 *
 * Why: these read files the config only names; an error here fails the reload before anything
 * else changes, so the running config stays whole.
 *
 * @returns the error lines, empty when all is in use
 */
async function takeInUse(
  next: Config,
  tls: TlsListener | undefined,
  accessLog: AccessLog,
  peers: WorkerSet | undefined,
): Promise<string[]> {
  if (next.tls && tls) {
    const error = await tls.rotate(next.tls);
    if (error) return [error];
    const rotated = peers ? await peers.rotate(tls.served) : [];
    if (rotated.length > 0) return rotated;
  }
  // Workers open the same path after the owner did, when they take the reloaded config.
  const logError = await accessLog.apply(next.accessLog);
  return logError ? [logError] : [];
}

/**
 * One reload at a time: a second SIGHUP during a reload waits for it, then reads the file again.
 *
 * Why: a reload awaits file reads and the workers between its steps; a second one started in
 * between would compare against a config about to be replaced.
 */
function serializeReloads(reload: () => Promise<ReloadResult>): () => Promise<ReloadResult> {
  let reloading: Promise<ReloadResult> | undefined;
  return async () => {
    while (reloading) await reloading.catch(() => {});
    reloading = reload();
    try {
      return await reloading;
    } finally {
      reloading = undefined;
    }
  };
}
