/**
 * The route table compiled for the request path: the first route (in file order) whose host,
 * path prefix, methods and headers all match picks the request's service; a split route picks
 * among its services by smooth weighted round robin, so shares are exact over every
 * `sum(weights)` requests and interleaved, never bursty.
 *
 * A match costs a few string comparisons per route: hosts are normalized once per request, path
 * prefixes are compared without building substrings, and the single catch-all route of a
 * one-service config is answered without looking at the request at all.
 *
 * @module
 */

import type { RouteConfig } from "../config/mod.ts";
import { hostMatches, type HostPattern, normalizeHost } from "../net/mod.ts";
import { SmoothSplit } from "./split.ts";

/** What a route needs to read from a request. */
export interface RoutedRequest {
  readonly method: string;
  /** The origin-form target (`/path?query`) as it will be sent upstream. */
  readonly target: string;
  readonly headers: { get(name: string): string | null };
}

/** The routing decision for one request. */
export interface RouteChoice<S> {
  /** The route's name (`routes[2]` unless named). */
  readonly route: string;
  readonly service: S;
  /** The target to send upstream with the route's prefix stripped; undefined: the request's own. */
  readonly target: string | undefined;
}

interface Compiled<S> {
  readonly name: string;
  readonly host: HostPattern | undefined;
  readonly prefix: string | undefined;
  readonly methods: ReadonlySet<string> | undefined;
  readonly headers: readonly (readonly [string, string])[] | undefined;
  readonly strip: boolean;
  readonly pick: () => S;
}

/** A compiled route table. */
export class Router<S> {
  readonly #routes: readonly Compiled<S>[];
  readonly #needsHost: boolean;
  readonly #catchAll: RouteChoice<S> | undefined;

  /**
   * @param routes the validated table
   * @param resolve the service object for a name (every name in the table exists)
   */
  constructor(routes: readonly RouteConfig[], resolve: (service: string) => S) {
    this.#routes = routes.map((r) => {
      const targets = r.targets.map((t) => ({ value: resolve(t.service), weight: t.weight }));
      const pick = targets.length === 1 ? () => targets[0].value : new SmoothSplit(targets).pick;
      return {
        name: r.name,
        host: r.match.host,
        prefix: r.match.pathPrefix,
        methods: r.match.methods ? new Set(r.match.methods) : undefined,
        headers: r.match.headers,
        strip: r.stripPrefix,
        pick,
      };
    });
    this.#needsHost = this.#routes.some((r) => r.host !== undefined);
    const first = this.#routes[0];
    const empty = !first.host && first.prefix === undefined && !first.methods && !first.headers;
    this.#catchAll = empty && routes[0].targets.length === 1
      ? Object.freeze({ route: first.name, service: first.pick(), target: undefined })
      : undefined;
  }

  /** The route and service for `req`, or undefined when no route matches (answer 404). */
  match(req: RoutedRequest): RouteChoice<S> | undefined {
    // One catch-all (every config without routes): the same answer, with no allocation.
    if (this.#catchAll) return this.#catchAll;
    const target = req.target;
    const host = this.#needsHost ? normalizeHost(req.headers.get("host")) : "";
    let q = target.indexOf("?");
    if (q === -1) q = target.length;
    for (const r of this.#routes) {
      if (r.host && !hostMatches(r.host, host)) continue;
      if (r.prefix !== undefined && !underPrefix(target, q, r.prefix)) continue;
      if (r.methods && !r.methods.has(req.method)) continue;
      if (r.headers && !r.headers.every(([n, v]) => req.headers.get(n) === v)) continue;
      return { route: r.name, service: r.pick(), target: r.strip ? strip(target, r.prefix!) : undefined };
    }
    return undefined;
  }
}

/** True when the path `target[0:pathEnd]` is `prefix` or continues it with a `/`. */
function underPrefix(target: string, pathEnd: number, prefix: string): boolean {
  if (pathEnd < prefix.length || !target.startsWith(prefix)) return false;
  return pathEnd === prefix.length || target.charCodeAt(prefix.length) === 47; // "/"
}

/** `target` without `prefix`: `/v1/x?q` -> `/x?q`, `/v1` -> `/`, `/v1?q` -> `/?q`. */
export function strip(target: string, prefix: string): string {
  const rest = target.slice(prefix.length);
  return rest === "" || rest.charCodeAt(0) === 63 ? `/${rest}` : rest; // "?"
}
