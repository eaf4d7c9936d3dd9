/**
 * The client's response from a request's last attempt: the backend's response with its headers
 * rewritten for the client (lib/proxy/headers.ts), the sticky cookie when one is due, or the
 * error status a failed attempt maps to (502, 504, or the body error of a client that broke it).
 *
 * @module
 */

import type { AttemptResult } from "./attempt.ts";
import type { Backend } from "../pool/mod.ts";
import type { Config } from "../config/mod.ts";
import { downstreamHeaders } from "./headers.ts";
import type { ServerRequest } from "../listener/mod.ts";
import type { Service } from "../service/mod.ts";
import type { ForwarderFeatures } from "./features.ts";
import type { Finished, Forwarding } from "./forwarding.ts";
import { bodyFailed, errorResponse, GONE, setHeader, tunnelOf } from "./answers.ts";
import type { StickyChoice, StickySessions } from "./sticky.ts";

/** What a response is made from: the request's flow (lib/proxy/flow.ts). */
export interface Responding {
  readonly f: Forwarding;
  readonly svc: Service;
  readonly req: ServerRequest;
  readonly config: Config;
  readonly requestId: string;
  readonly sticky: StickySessions<Backend> | undefined;
  readonly stuck: StickyChoice<Backend> | undefined;
  readonly pinned: Backend | undefined;
  readonly ctx: { readonly features: ForwarderFeatures; readonly now: () => number };
}

/** The counted response for `result`, the last attempt of the request `flow` carries. */
export function respond(flow: Responding, result: AttemptResult): Finished {
  const { f, req, config, svc } = flow;
  const backend = result.backend;
  const expose = config.exposeBackendHeader;
  if (!result.ok) {
    // The client left, or broke its streamed body's framing: not the backend's fault.
    if (result.kind === "cancelled") {
      return f.finish(backend.name, req.bodyError ? bodyFailed(req.bodyError) : GONE);
    }
    const code = result.kind === "timeout" ? 504 : 502;
    const reason = result.reason ??
      (result.kind === "timeout" ? "upstream timed out" : `upstream ${result.kind} failed`);
    return f.finish(backend.name, errorResponse(code, reason, backend, flow.requestId, expose));
  }
  if (f.facts) f.facts.headersAt = flow.ctx.now();
  const upgraded = result.upgraded;
  const headers = downstreamHeaders(result.headers, upgraded !== undefined);
  setHeader(headers, "x-request-id", flow.requestId);
  if (expose) setHeader(headers, "x-lb-backend", backend.name);
  const stuck = flow.stuck;
  if (stuck) {
    const pinned = flow.pinned;
    f.sticky = stuck.issue || !pinned ? "set" : "kept";
    // A healthy pinned backend keeps its sessions even when another one answered this time.
    if (f.sticky === "set") {
      const secure = flow.ctx.features.secure(req, config.trustedProxies);
      headers.push("set-cookie", flow.sticky!.setCookie(pinned ?? backend, secure));
    }
  }
  if (upgraded) {
    return f.finish(backend.name, {
      status: 101,
      headers,
      body: null,
      tunnel: tunnelOf(svc, backend, upgraded),
    });
  }
  return f.finish(backend.name, {
    status: result.status,
    headers,
    body: result.body,
    length: result.length,
  });
}
