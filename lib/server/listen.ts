/**
 * Opening the two listeners, with one error handler for both and one clear error when an
 * address cannot be bound.
 *
 * A taken port is the most common first-run mistake; it must read as one line that names the
 * address and the config key to change (`listen: cannot listen on 0.0.0.0:8080: address already
 * in use`), never as a stack trace.
 *
 * @module
 */

import type { ListenAddress } from "../config/mod.ts";
import type { Logger } from "../base/mod.ts";
import {
  type ConnectionOptions,
  type Http1Handler,
  type Http1Server,
  serveHttp1,
  textResponse,
} from "../listener/mod.ts";

/** An address could not be bound; the message is the one line to print. */
export class ListenError extends Error {
  override name = "ListenError";
}

/** Why binding failed, in words, from the runtime's error. */
function why(e: Error): string {
  if (e instanceof Deno.errors.AddrInUse) return "address already in use";
  if (e instanceof Deno.errors.PermissionDenied) {
    return "permission denied (ports below 1024 need privileges)";
  }
  if (e instanceof Deno.errors.AddrNotAvailable) return "address not available on this machine";
  if (e instanceof Deno.errors.NotCapable) return "not allowed by Deno's --allow-net";
  // `workers` > 1 binds with SO_REUSEPORT, which Deno only allows under --unstable-net.
  if (e.message.includes("--unstable-net")) {
    return 'workers > 1 needs Deno\'s --unstable-net (deno.json\'s "unstable": ["net"] sets it for deno task start)';
  }
  return e.message;
}

/** Bind with `bind()`, turning a failure into a {@linkcode ListenError} naming `key` and the address. */
export function listenOrExplain<T>(key: string, addr: ListenAddress, bind: () => T): T {
  try {
    return bind();
  } catch (e) {
    throw explainListen(key, addr, e as Error);
  }
}

/** The {@linkcode ListenError} for a bind of `addr` (config key `key`) that failed with `e`. */
export function explainListen(key: string, addr: ListenAddress, e: Error): ListenError {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return new ListenError(`${key}: cannot listen on ${host}:${addr.port}: ${why(e)}`);
}

/** True when `e` is about the address (in use, not local, not allowed), not what was served on it. */
export function isBindError(e: unknown): boolean {
  return e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.PermissionDenied ||
    e instanceof Deno.errors.AddrNotAvailable || e instanceof Deno.errors.NotCapable;
}

/** Log an error a handler let through; the listener answers 500. */
export function unexpected(log: Logger): (error: unknown) => void {
  return (error) => log("error", "unexpected error while handling a request", { error: String(error) });
}

/** The admin listener (`Deno.serve`: its few requests need no tuning). */
export function listenAdmin(
  addr: ListenAddress,
  handler: (req: Request) => Promise<Response>,
  log: Logger,
): Deno.HttpServer<Deno.NetAddr> {
  const report = unexpected(log);
  return listenOrExplain("admin.listen", addr, () =>
    Deno.serve({
      hostname: addr.hostname,
      port: addr.port,
      onListen: () => {},
      onError: (error) => {
        report(error);
        return new Response("500 Internal Server Error\n", { status: 500 });
      },
    }, handler));
}

/**
 * How an isolate opens a public address it shares with the other isolates (`workers` > 1): each
 * accepts on its own `SO_REUSEPORT` socket of the address, and the kernel spreads new connections
 * over them. `open`: the first isolate, which also finds out whether the address is free (an
 * `SO_REUSEPORT` bind would silently share a port another process holds with the same option);
 * `join`: the others, on the port the first bound.
 */
export type Share = "open" | "join";

/**
 * Bind `addr` without `SO_REUSEPORT` and let it go: the port it got (the given one, or a free one
 * for port 0), or a {@linkcode ListenError} when the address is taken.
 */
export function freePort(key: string, addr: ListenAddress): number {
  const probe = listenOrExplain(key, addr, () => Deno.listen({ hostname: addr.hostname, port: addr.port }));
  const port = probe.addr.port;
  probe.close();
  return port;
}

/** Timeouts the public listener reads per connection, so a reload applies to new requests at once. */
export interface PublicTimeouts {
  readonly headerTimeoutMs: () => number;
  readonly idleTimeoutMs: () => number;
  readonly tunnelIdleMs: () => number;
}

/** The public listener (our own HTTP/1.1 server). */
export function listenPublic(
  addr: ListenAddress,
  handler: Http1Handler,
  options: PublicTimeouts & {
    readonly log: Logger;
    readonly now: () => number;
    readonly onReject?: ConnectionOptions["onReject"];
    readonly share?: Share;
  },
): Http1Server {
  const report = unexpected(options.log);
  const internal = textResponse(500, "Internal Server Error");
  const port = options.share === "open" ? freePort("listen", addr) : addr.port;
  return listenOrExplain("listen", addr, () =>
    serveHttp1({
      hostname: addr.hostname,
      port,
      reusePort: options.share !== undefined,
      headerTimeoutMs: options.headerTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      tunnelIdleMs: options.tunnelIdleMs,
      now: options.now,
      onReject: options.onReject,
      onError: (error) => {
        report(error);
        return internal;
      },
    }, handler));
}
