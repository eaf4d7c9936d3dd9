/**
 * The public listeners of one isolate: the plain one, and the TLS one when `tls` is configured,
 * both answering with the isolate's handler; and draining them at shutdown.
 *
 * @module
 */

import type { Logger } from "../base/mod.ts";
import type { Http1Server } from "../listener/mod.ts";
import { logRejection } from "./access.ts";
import { listenPublic, type Share } from "./listen.ts";
import type { Parts } from "./parts.ts";
import { listenTls, redirectToHttps, type TlsListener, type TlsPair } from "./tls.ts";

/** An isolate's open public listeners. */
export interface PublicListeners {
  readonly proxy: Http1Server;
  readonly tls: TlsListener | undefined;
}

/** How {@linkcode openPublic} opens. */
export interface PublicOptions {
  readonly log: Logger;
  readonly now: () => number;
  /** Share the addresses with other isolates (`workers` > 1). */
  readonly share?: Share;
  /** The TLS certificate to serve instead of reading its files (a worker takes the owner's). */
  readonly pair?: TlsPair;
}

/**
 * Open the TLS listener (when configured), then the plain one.
 *
 * @throws {ListenError} when an address cannot be bound or the certificate does not load; nothing
 *   opened is left open
 */
export async function openPublic(parts: Parts, o: PublicOptions): Promise<PublicListeners> {
  const { log, now, share } = o;
  const config = parts.config();
  const current = parts.config;
  const { handler, metrics, accessLog } = parts;
  const onReject = logRejection(accessLog);
  const tls = config.tls
    ? await listenTls(config.tls, { current, handler, metrics, log, now, onReject }, { pair: o.pair, share })
    : undefined;
  try {
    const redirect = redirectToHttps(handler, () => current().tls, metrics, { access: accessLog, now });
    const proxy = listenPublic(config.listen, redirect, {
      onReject,
      headerTimeoutMs: () => current().timeouts.clientHeaderMs,
      idleTimeoutMs: () => current().timeouts.clientIdleMs,
      tunnelIdleMs: () => current().timeouts.tunnelIdleMs,
      log,
      now,
      share,
    });
    return { proxy, tls };
  } catch (e) {
    tls?.server.close();
    throw e;
  }
}

/** Let in-flight requests finish for up to `timeoutMs`, then close what is left. */
export async function drain(proxy: Http1Server, timeoutMs: number, log: Logger): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const outcome = await Promise.race([proxy.shutdown().then(() => "drained" as const), deadline]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    log("warn", "shutdown timeout reached; closing remaining connections");
    proxy.close();
  }
}

/** Drain every public listener of an isolate at once. */
export async function drainAll(listeners: PublicListeners, timeoutMs: number, log: Logger): Promise<void> {
  await Promise.all([
    drain(listeners.proxy, timeoutMs, log),
    listeners.tls && drain(listeners.tls.server, timeoutMs, log),
  ]);
}
