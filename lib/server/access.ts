/**
 * Access-log lines for what the proxy answers before a request reaches a service: heads the
 * listener refused (400, 408, 431, 501, 505) and the plain listener's redirects to https.
 *
 * @module
 */

import type { AccessLog } from "../access_log/mod.ts";
import type { Rejection } from "../listener/mod.ts";

/** The listener's `onReject`: one line per refused head, method and path `-` (nothing was parsed). */
export function logRejection(
  log: AccessLog,
): (rejection: Rejection, remoteAddr: Deno.NetAddr, secure: boolean) => void {
  return (rejection, remoteAddr) => {
    if (!log.enabled) return;
    log.write({
      time: Date.now(),
      requestId: undefined,
      traceId: undefined,
      clientIp: remoteAddr.hostname,
      method: "-",
      host: null,
      path: "-",
      protocol: "HTTP/1.1",
      status: rejection.status,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: 0,
      upstreamMs: undefined,
      service: undefined,
      route: undefined,
      backend: undefined,
      attempts: 0,
      userAgent: null,
      referer: null,
    });
  };
}
