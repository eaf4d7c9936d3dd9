/**
 * Backend discovery from Docker: running containers with the enabling label become backends,
 * and leave when they stop.
 *
 * On connect it subscribes to container events first and lists running containers second, then
 * applies the listing and the events in one serial queue: an event that races the listing is
 * applied after it, so a container that dies while being listed is still removed. When the engine
 * is unreachable or the event stream drops, it logs one line, reports each failed attempt to
 * `onError`, retries with capped exponential backoff, and on reconnect re-lists, removing backends
 * whose containers went away meanwhile.
 *
 * @module
 */

import { connectDocker, type DockerApi } from "./api.ts";
import { type BackendSpec, backendSpec, labelFilter, type SpecRules } from "./backend_spec.ts";
import { followJsonLines } from "./json_lines.ts";
import { backoffDelay, type BackoffOptions, consoleLogger, type Logger, sleep } from "../base/mod.ts";

export type { BackendSpec } from "./backend_spec.ts";

/** Where discovered backends go; the services implement it. */
export interface DiscoverySink {
  /** Add a backend to `spec.service`, or replace the one with the same name there. */
  upsert(spec: BackendSpec): void;
  /** Remove the backend given before as `spec`; unknown ones are ignored. */
  remove(spec: BackendSpec): void;
}

/** Options for {@linkcode createDockerDiscovery}; they mirror `discovery.docker` in config. */
export interface DockerDiscoveryOptions {
  /** Receives backends as containers come and go. */
  readonly sink: DiscoverySink;
  /** Engine socket. @default "/var/run/docker.sock" */
  readonly socket?: string;
  /** Engine client; built from `socket` when omitted. */
  readonly docker?: DockerApi;
  /** Enabling label, `key` (meaning `key=true`) or `key=value`. @default "lb.enable" */
  readonly label?: string;
  /** Label with the backend port. @default "lb.port" */
  readonly portLabel?: string;
  /** Port when the port label is absent. @default 80 */
  readonly defaultPort?: number;
  /** Label with the backend weight. @default "lb.weight" */
  readonly weightLabel?: string;
  /** Label naming the service a container joins. @default "lb.service" */
  readonly serviceLabel?: string;
  /** Network to take addresses from; empty: the first network with an address. @default "" */
  readonly network?: string;
  /** One line per outage, per recovery and per container that cannot be a backend. @default consoleLogger() */
  readonly log?: Logger;
  /** Called with every failed connection attempt, e.g. to count them. */
  readonly onError?: (error: Error) => void;
  /** Called each time a (re)connection has listed the running containers and applied them to the sink. */
  readonly onSynced?: () => void;
  /** Reconnect pacing. */
  readonly backoff?: BackoffOptions;
}

/** A running discovery loop. */
export interface DockerDiscovery {
  /** Stop watching; resolves when the event stream has closed. Backends found stay in the sink. */
  close(): Promise<void>;
}

// Events that start or end a container's time as a backend.
const UP_EVENTS = new Set(["start", "unpause"]);
const DOWN_EVENTS = new Set(["die", "stop", "destroy", "pause"]);

interface DockerEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly id?: string;
  readonly Actor?: { readonly ID?: string };
}

/**
 * Start discovery; it runs until `close()`.
 *
 * @example
 * ```ts
 * const discovery = createDockerDiscovery({ sink: pool, network: "backends" });
 * // later
 * await discovery.close();
 * ```
 */
export function createDockerDiscovery(options: DockerDiscoveryOptions): DockerDiscovery {
  const socket = options.socket ?? "/var/run/docker.sock";
  const docker = options.docker ?? connectDocker(socket);
  const { sink } = options;
  const log = options.log ?? consoleLogger();
  const rules: SpecRules = {
    label: options.label ?? "lb.enable",
    portLabel: options.portLabel ?? "lb.port",
    weightLabel: options.weightLabel ?? "lb.weight",
    serviceLabel: options.serviceLabel ?? "lb.service",
    defaultPort: options.defaultPort ?? 80,
    network: options.network ?? "",
  };
  const filter = labelFilter(rules.label);
  const abort = new AbortController();
  const signal = abort.signal;
  // Container id -> the spec last given to the sink for it.
  const current = new Map<string, BackendSpec>();

  const remove = (id: string) => {
    const spec = current.get(id);
    if (!spec) return;
    current.delete(id);
    sink.remove(spec);
  };

  // Inspect and upsert; a container that stopped or vanished meanwhile is removed instead.
  const refresh = async (id: string) => {
    let inspect;
    try {
      inspect = await docker.getContainer(id).inspect({ abortSignal: signal });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return remove(id);
      throw error;
    }
    const result = backendSpec(inspect, rules);
    if (!result.ok) {
      if (inspect.State.Running) {
        log("warn", "docker discovery: container skipped", { reason: result.reason });
      }
      return remove(id);
    }
    const before = current.get(id);
    if (before && JSON.stringify(before) === JSON.stringify(result.spec)) return;
    if (before && (before.name !== result.spec.name || before.service !== result.spec.service)) {
      sink.remove(before);
    }
    current.set(id, result.spec);
    sink.upsert(result.spec);
  };

  const apply = async (event: DockerEvent) => {
    const id = event.Actor?.ID ?? event.id;
    if (event.Type !== "container" || !id || !event.Action) return;
    if (UP_EVENTS.has(event.Action)) await refresh(id);
    else if (DOWN_EVENTS.has(event.Action)) remove(id);
  };

  // One connection: subscribe, list, reconcile, then apply events until the stream ends.
  const session = async (onSynced: () => void) => {
    const filters = { type: ["container"], label: [filter] };
    const stream = await docker.getEvents({ filters, abortSignal: signal });
    let queue = Promise.resolve();
    let failure: Error | undefined;
    const enqueue = (task: () => Promise<void>) => {
      queue = queue.then(task).catch((error) => {
        failure ??= error;
        stream.destroy();
      });
    };
    const ended = followJsonLines(stream, (event) => enqueue(() => apply(event as DockerEvent)));
    enqueue(async () => {
      const running = await docker.listContainers({
        filters: { label: [filter], status: ["running"] },
        abortSignal: signal,
      });
      const ids = new Set(running.map((c) => c.Id));
      for (const id of [...current.keys()]) if (!ids.has(id)) remove(id);
      for (const id of ids) await refresh(id);
      onSynced();
    });
    await ended.catch((error) => failure ??= error);
    await queue;
    if (failure) throw failure;
    throw new Error("the event stream ended");
  };

  const run = async () => {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await session(() => {
          if (failures > 0) log("info", "docker discovery: reconnected", { socket, backends: current.size });
          failures = 0;
          options.onSynced?.();
        });
      } catch (error) {
        if (signal.aborted) break;
        const err = error instanceof Error ? error : new Error(String(error));
        failures++;
        options.onError?.(err);
        if (failures === 1) {
          log(
            "warn",
            "docker discovery: cannot watch Docker, retrying with backoff and keeping known backends",
            {
              socket,
              error: err.message,
            },
          );
        }
        await sleep(backoffDelay(failures, options.backoff), signal);
      }
    }
  };

  const done = run();
  return {
    async close() {
      abort.abort();
      await done;
    },
  };
}
