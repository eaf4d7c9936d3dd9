/**
 * Backend discovery from Docker Swarm: the running tasks of services carrying the enabling label
 * in their deploy labels become backends, and leave when they stop, move or are scaled away.
 *
 * Docker Engine 20.10 sends events for services (create, update, remove) but none for tasks, and
 * container events only for this node's containers. So the loop lists services and tasks again
 * every `pollIntervalMs`, and sooner when an event says something changed (a service update, a
 * swarm container here starting, dying or changing health), then applies the difference to the
 * sink: the full listing is the truth, never an event alone. Listings run one after another in
 * one loop, so the sink sees one change set at a time. Only `GET` calls are made.
 *
 * The services API answers on managers only. When a listing fails because this node cannot
 * answer (no socket, or 503 "not a swarm manager") and `dnsFallback` names services, it resolves
 * `tasks.<name>` instead (`swarm_dns.ts`), and says so in one log line; each round still tries
 * the API first, and one line says when it answers again. Without a fallback, or on any other
 * failure, the known backends stay and one line per failure streak says why.
 *
 * @module
 */

import type { DockerApi } from "./api.ts";
import { swarmApiUnavailable } from "./api.ts";
import { type BackendSpec, labelFilter, type SpecRules } from "./backend_spec.ts";
import type { DiscoverySink, DockerDiscovery } from "./discovery.ts";
import { followJsonLines } from "./json_lines.ts";
import { resolveSwarmTasks, systemResolver, type TaskResolver } from "./swarm_dns.ts";
import { swarmBackends, type SwarmListing } from "./task_spec.ts";
import type { SwarmDnsTarget } from "../config/mod.ts";
import { backoffDelay, type BackoffOptions, type Logger, sleep } from "../base/mod.ts";

/** Where a listing came from. */
export type SwarmSource = "api" | "dns";

/** Options for {@linkcode createSwarmDiscovery}; they mirror `discovery.docker` in config. */
export interface SwarmDiscoveryOptions {
  readonly sink: DiscoverySink;
  readonly docker: DockerApi;
  /** Socket, for log lines. */
  readonly socket: string;
  /** Labels and network; `defaultPort` applies when a service has no port label. */
  readonly rules: SpecRules;
  /** Time between listings when nothing happens. */
  readonly pollIntervalMs: number;
  /** Services resolved by DNS when the API cannot list them. @default [] */
  readonly dnsFallback?: readonly SwarmDnsTarget[];
  /** @default systemResolver() */
  readonly resolver?: TaskResolver;
  readonly log: Logger;
  /** Called with every failed Docker request (listings and the event stream). */
  readonly onError?: (error: Error) => void;
  /** Called after each listing applied to the sink, with where it came from. */
  readonly onSynced?: (source: SwarmSource) => void;
  /** Reconnect pacing of the event stream. */
  readonly backoff?: BackoffOptions;
  /** Monotonic clock in ms, for when the next listing is due. @default performance.now */
  readonly now?: () => number;
}

/** Container events that change what a task listing says. */
const TASK_EVENTS = /^(start|die|destroy|health_status)/;
/** After an event: list at once (debounced), and once more in case the manager had not caught up. */
const SETTLE_MS = 100;
const FOLLOW_UP_MS = 1_000;

interface DockerEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly Actor?: { readonly Attributes?: Record<string, string> };
}

/**
 * Start Swarm discovery; it runs until `close()`.
 *
 * @example
 * ```ts
 * const discovery = createSwarmDiscovery({ sink, docker, socket, rules, pollIntervalMs: 5_000, log });
 * await discovery.close();
 * ```
 */
export function createSwarmDiscovery(options: SwarmDiscoveryOptions): DockerDiscovery {
  const { sink, docker, rules, log } = options;
  const now = options.now ?? (() => performance.now());
  const fallback = options.dnsFallback ?? [];
  const resolver = options.resolver ?? systemResolver();
  const abort = new AbortController();
  const signal = abort.signal;
  const filter = labelFilter(rules.label);
  // `service\0name` -> the spec last given to the sink.
  const current = new Map<string, BackendSpec>();
  const ptrNames = new Map<string, string>();
  let reported = new Set<string>();
  let source: SwarmSource | undefined;
  let failing = false;
  let localNode: string | undefined;
  let wake = () => {};
  let due = 0;
  let followUp = false;

  const apply = (listing: SwarmListing) => {
    const next = new Map(listing.specs.map((s) => [`${s.service}\0${s.name}`, s]));
    for (const [key, spec] of current) {
      if (!next.has(key)) {
        current.delete(key);
        sink.remove(spec);
      }
    }
    for (const [key, spec] of next) {
      if (JSON.stringify(current.get(key)) === JSON.stringify(spec)) continue;
      current.set(key, spec);
      sink.upsert(spec);
    }
    // One line per problem while it lasts, again if it comes back after going away.
    for (const reason of listing.skipped) {
      if (!reported.has(reason)) log("warn", "docker discovery: swarm task skipped", { reason });
    }
    reported = new Set(listing.skipped);
  };

  const fromApi = async (): Promise<SwarmListing> => {
    localNode ??= (await docker.info({ abortSignal: signal })).Swarm?.NodeID ?? "";
    const services = await docker.listServices({ filters: { label: [filter] }, abortSignal: signal });
    const tasks = services.length === 0 ? [] : await docker.listTasks({
      filters: { service: services.map((s) => s.ID), "desired-state": ["running"] },
      abortSignal: signal,
    });
    return swarmBackends(services, tasks, rules, localNode);
  };

  const round = async () => {
    try {
      apply(await fromApi());
      if (failing || source === "dns") {
        log("info", "docker discovery: listing swarm tasks through the API", {
          socket: options.socket,
          backends: current.size,
        });
      }
      failing = false;
      source = "api";
      options.onSynced?.("api");
      return;
    } catch (error) {
      if (signal.aborted) return;
      const err = error instanceof Error ? error : new Error(String(error));
      options.onError?.(err);
      localNode = undefined;
      if (fallback.length === 0 || !swarmApiUnavailable(err)) {
        if (!failing) {
          log("warn", "docker discovery: cannot list swarm services, retrying and keeping known backends", {
            socket: options.socket,
            error: err.message,
            ...(swarmApiUnavailable(err)
              ? { hint: "run on a manager node, or list services in discovery.docker.dns_fallback" }
              : {}),
          });
        }
        failing = true;
        return;
      }
      if (source !== "dns") {
        log("warn", "docker discovery: no swarm API on this node; resolving tasks by DNS", {
          socket: options.socket,
          error: err.message,
          names: fallback.map((t) => `tasks.${t.name}`).join(" "),
        });
      }
      source = "dns";
      failing = false;
    }
    try {
      apply(await resolveSwarmTasks(fallback, resolver, ptrNames, signal));
      options.onSynced?.("dns");
    } catch (error) {
      if (signal.aborted) return;
      log("warn", "docker discovery: DNS fallback failed; keeping known backends", {
        error: (error as Error).message,
      });
    }
  };

  /** Bring the next listing forward to `afterMs` from now, unless it is due sooner already. */
  const schedule = (afterMs: number) => {
    const at = now() + afterMs;
    if (at < due) {
      due = at;
      wake();
    }
  };

  const poll = async () => {
    while (!signal.aborted) {
      // Set before the round, so an event during it brings the next one forward.
      due = now() + (followUp ? FOLLOW_UP_MS : options.pollIntervalMs);
      followUp = false;
      await round();
      while (!signal.aborted && now() < due) {
        const woken = new AbortController();
        wake = () => woken.abort();
        await sleep(due - now(), AbortSignal.any([signal, woken.signal]));
      }
    }
  };

  const onEvent = (event: DockerEvent) => {
    const swarmContainer = event.Type === "container" &&
      event.Actor?.Attributes?.["com.docker.swarm.service.id"] !== undefined &&
      TASK_EVENTS.test(event.Action ?? "");
    if (event.Type !== "service" && !swarmContainer) return;
    followUp = true;
    schedule(SETTLE_MS);
  };

  const watchEvents = async () => {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const stream = await docker.getEvents({
          filters: { type: ["service", "container"] },
          abortSignal: signal,
        });
        failures = 0;
        await followJsonLines(stream, (e) => onEvent(e as DockerEvent));
      } catch (error) {
        if (signal.aborted) break;
        options.onError?.(error instanceof Error ? error : new Error(String(error)));
      }
      // Listing goes on meanwhile; the stream only makes it prompt, so it reconnects quietly.
      await sleep(backoffDelay(++failures, options.backoff), signal);
    }
  };

  const done = Promise.all([poll(), watchEvents()]);
  return {
    async close() {
      abort.abort();
      await done;
    },
  };
}
