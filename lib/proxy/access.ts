/**
 * What the forwarder knows about a request for its access-log line, gathered while it works and
 * turned into a record when the listener reports the exchange over (after the last body byte, or
 * when a tunnel closed), so `duration_ms` and `bytes_out` cover the whole response.
 *
 * @module
 */

import type { AccessRecord } from "../access_log/mod.ts";
import type { ExchangeEnd, ServerRequest, ServerResponse } from "../listener/mod.ts";

/** Where records go: the access log, as the forwarder sees it. */
export interface AccessSink {
  /** Off: the forwarder builds no record at all. */
  readonly enabled: boolean;
  write(record: AccessRecord): void;
}

/** The forwarder's facts about one request, filled in as it goes. */
export interface AccessFacts {
  /** Monotonic ms when the handler got the request. */
  readonly start: number;
  requestId?: string;
  traceId?: string;
  service?: string;
  route?: string;
  /** Attempts made so far. */
  attempts: number;
  /** Monotonic ms when the first attempt started. */
  firstAttemptAt?: number;
  /** Monotonic ms when response headers arrived from the backend. */
  headersAt?: number;
  /** A hedge was sent (`hedging`): its backend, and whose response the client got. */
  hedge?: AccessRecord["hedge"];
  /** With `sticky`: the request's cookie `kept`, or a new one `set`. */
  sticky?: AccessRecord["sticky"];
}

/**
 * `res` with an `ended` callback that writes the record of `req` to `sink`, backend `backend`.
 * `now` is the forwarder's monotonic clock; wall time is derived once, at the end.
 */
export function logged(
  sink: AccessSink,
  now: () => number,
  req: ServerRequest,
  facts: AccessFacts,
  backend: string | undefined,
  res: ServerResponse,
): ServerResponse {
  return {
    ...res,
    ended: (end: ExchangeEnd) => {
      res.ended?.(end);
      const t = now();
      const durationMs = t - facts.start;
      const headers = req.headers;
      sink.write({
        time: Date.now() - durationMs,
        requestId: facts.requestId,
        traceId: facts.traceId,
        clientIp: req.remoteAddr.hostname,
        method: req.method,
        host: headers.get("host"),
        path: req.target,
        protocol: req.version,
        status: res.status,
        bytesIn: end.bytesIn,
        bytesOut: end.bytesOut,
        durationMs,
        upstreamMs: facts.headersAt !== undefined && facts.firstAttemptAt !== undefined
          ? facts.headersAt - facts.firstAttemptAt
          : undefined,
        service: facts.service,
        route: facts.route,
        backend,
        attempts: facts.attempts,
        hedge: facts.hedge,
        sticky: facts.sticky,
        userAgent: headers.get("user-agent"),
        referer: headers.get("referer"),
      });
    },
  };
}
