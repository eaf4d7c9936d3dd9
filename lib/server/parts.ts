/**
 * What every isolate of the proxy builds from a config, the owner and each worker alike: its
 * metrics, upstream client, services, route table and request handler.
 *
 * @module
 */

import type { Registry } from "prom-client";
import type { AccessLog } from "../access_log/mod.ts";
import type { ResourceStats } from "../../algorithms/mod.ts";
import type { Logger } from "../base/mod.ts";
import type { Config } from "../config/mod.ts";
import type { Http1Handler } from "../listener/mod.ts";
import { Metrics, ResilienceMetrics, StatsWindow } from "../metrics/mod.ts";
import type { ContainerTracker } from "../pool/mod.ts";
import { type AccessSink, createProxyHandler } from "../proxy/mod.ts";
import { Router } from "../routing/mod.ts";
import { type ServiceRuntime, ServiceSet } from "../service/mod.ts";
import { UpstreamClient } from "../upstream/mod.ts";

/** What {@linkcode buildParts} needs besides the config. */
export interface PartsOptions {
  readonly registry: Registry;
  readonly log: Logger;
  readonly now: () => number;
  readonly random: () => number;
  /** Collect prom-client's process metrics (one isolate per process does). */
  readonly processMetrics: boolean;
  /** Container stats, tracked under `service/backend` keys. */
  readonly containers: ContainerTracker & { readonly stats: ResourceStats };
  /** This isolate's access log (each isolate appends whole batches to the file on its own). */
  readonly accessLog: AccessLog;
  /** Where the handler's records go. @default accessLog */
  readonly records?: AccessSink;
  /** Wall clock in ms since the Unix epoch (sticky cookie expiries). @default Date.now */
  readonly wallClock?: () => number;
  /** See {@linkcode ServiceRuntime.onStateChange}. */
  readonly onStateChange?: ServiceRuntime["onStateChange"];
  /** See {@linkcode ServiceRuntime.mirror}: set in a worker isolate. */
  readonly mirror?: ServiceRuntime["mirror"];
}

/** One isolate's proxy, without listeners. */
export interface Parts {
  readonly metrics: Metrics;
  readonly resilience: ResilienceMetrics;
  readonly client: UpstreamClient;
  readonly services: ServiceSet;
  /** Requests no route matched, over the stats window. */
  readonly unrouted: StatsWindow;
  /** This isolate's access log, as given. */
  readonly accessLog: AccessLog;
  /** Answers every public request. */
  readonly handler: Http1Handler;
  /** The config in effect. */
  config(): Config;
  /** Put `next` in effect, with its route table (a reload's synchronous step). */
  swap(next: Config): void;
}

/** Build one isolate's proxy from `config`. */
export function buildParts(config: Config, o: PartsOptions): Parts {
  const { now } = o;
  let current = config;
  const metrics = new Metrics(o.registry, o.processMetrics);
  const unrouted = new StatsWindow({ now });
  metrics.addUnroutedObserver(unrouted);
  const resilience = new ResilienceMetrics(o.registry);
  const client = new UpstreamClient({ now });
  const services = new ServiceSet(config.services, {
    log: o.log,
    now,
    random: o.random,
    metrics,
    resilience,
    client,
    containers: o.containers,
    trustedProxies: () => current.trustedProxies,
    onStateChange: o.onStateChange,
    mirror: o.mirror,
  });
  const route = (c: Config) => new Router(c.routes, (name) => services.get(name)!);
  let router = route(config);
  const handler = createProxyHandler({
    config: () => current,
    router: () => router,
    client,
    metrics,
    now,
    accessLog: o.records ?? o.accessLog,
    wallClock: o.wallClock,
  });
  return {
    metrics,
    resilience,
    client,
    services,
    unrouted,
    accessLog: o.accessLog,
    handler,
    config: () => current,
    swap(next) {
      current = next;
      router = route(next);
    },
  };
}
