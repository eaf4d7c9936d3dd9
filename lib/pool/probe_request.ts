/**
 * The request of an active check of a backend: health checks and `prequal`'s load probes send the
 * same `GET`, differing only in path and `User-Agent`.
 *
 * @module
 */

import type { UpstreamRequest } from "../upstream/mod.ts";
import type { Backend } from "./backend.ts";

/**
 * A `GET path` to `backend`. Its `Host` is the name the backend's certificate is checked for
 * (`tls.server_name`) when there is one, else the URL's host: a virtual-hosted TLS backend
 * answers for that name.
 *
 * @param agent the `User-Agent`, which tells the backend's logs what the request is
 * @example
 * ```ts ignore
 * const request = probeRequest(backend, "/health", "lb-health-check");
 * ```
 */
export function probeRequest(backend: Backend, path: string, agent: string): UpstreamRequest {
  const host = backend.tls?.serverName ??
    (backend.hostname.includes(":") ? `[${backend.hostname}]` : backend.hostname);
  return {
    method: "GET",
    target: path,
    headers: ["host", `${host}:${backend.port}`, "user-agent", agent, "accept", "*/*"],
    body: null,
    signal: new AbortController().signal,
  };
}
