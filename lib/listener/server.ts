/**
 * The public listener's plain HTTP/1.1 server, on `Deno.listen`: accepts connections and hands
 * each to the request loop (lib/listener/connections.ts). The admin listener stays on
 * `Deno.serve`; the TLS listener is lib/listener/tls.ts.
 *
 * @example
 * ```ts
 * import { serveHttp1 } from "./server.ts";
 * const server = serveHttp1({ hostname: "127.0.0.1", port: 0 }, (req) => ({
 *   status: 200,
 *   headers: ["content-type", "text/plain"],
 *   body: `you asked for ${req.target}\n`,
 * }));
 * await server.shutdown();
 * ```
 *
 * @module
 */

import {
  type ConnectionOptions,
  type Connections,
  createConnections,
  type Http1Handler,
} from "./connections.ts";
import type { ServerRequest } from "./exchange.ts";
import type { ServerResponse } from "./response_writer.ts";

export type { Http1Handler, ServerRequest, ServerResponse };

/** Options for {@linkcode serveHttp1}. */
export interface Http1ServerOptions extends ConnectionOptions {
  readonly hostname: string;
  readonly port: number;
  /**
   * Open the socket with `SO_REUSEPORT`, so several isolates can each accept on the same address
   * and the kernel spreads connections over them (`workers`; needs `--unstable-net`). @default false
   */
  readonly reusePort?: boolean;
}

/** A running server. */
export interface Http1Server {
  readonly addr: Deno.NetAddr;
  /** Stop accepting, close idle connections, finish the responses in progress, then resolve. */
  shutdown(): Promise<void>;
  /** Close every connection now. */
  close(): void;
}

/** Listen on `hostname:port` and answer each request with `handler`. */
export function serveHttp1(options: Http1ServerOptions, handler: Http1Handler): Http1Server {
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    transport: "tcp",
    ...(options.reusePort ? { reusePort: true } : {}),
  });
  const conns = createConnections(options, handler);
  return listenOn(listener, conns, (conn) => {
    conn.setNoDelay(true);
    conns.serve(conn, conn.remoteAddr, false);
  });
}

/**
 * Accept on `listener` and give each connection to `accepted` until shutdown; the server's
 * shutdown and close stop accepting first, then end `conns`.
 */
export function listenOn<C extends Deno.Conn>(
  listener: Deno.Listener<C>,
  conns: Connections,
  accepted: (conn: C) => void,
): Http1Server {
  (async () => {
    try {
      for await (const conn of listener) {
        if (conns.stopping) conn.close();
        else accepted(conn);
      }
    } catch {
      // The listener was closed.
    }
  })();
  const stopAccepting = () => {
    try {
      listener.close();
    } catch { /* already closed */ }
  };
  return {
    addr: listener.addr as Deno.NetAddr,
    shutdown() {
      stopAccepting();
      return conns.shutdown();
    },
    close() {
      stopAccepting();
      conns.close();
    },
  };
}
