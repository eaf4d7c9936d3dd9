/**
 * Container resource usage for the `least_resources` strategy, from the Docker Engine.
 *
 * One streaming `GET /containers/{id}/stats` per tracked container: the engine pushes a document
 * about once a second, each carrying the previous CPU reading, so every document yields a fresh CPU
 * delta without a blocking two-second call per poll (the seed project's ~2.7 s stale numbers made
 * all traffic herd to one backend per window). A stream that ends or fails is reopened with capped
 * exponential backoff while the backend stays tracked.
 *
 * @module
 */

import type { ResourceSample, ResourceStats } from "../../algorithms/mod.ts";
import type { DockerApi } from "./api.ts";
import { availableCpus, cpuRatio, type DockerStatsDocument, memoryRatio } from "./stats_ratio.ts";
import { followJsonLines } from "./json_lines.ts";
import { backoffDelay, type BackoffOptions, consoleLogger, type Logger, sleep } from "../base/mod.ts";

export { availableCpus, cpuRatio, memoryRatio } from "./stats_ratio.ts";
export type { DockerStatsDocument } from "./stats_ratio.ts";

/** Options for {@linkcode createDockerStats}. */
export interface DockerStatsOptions {
  /** Engine client, usually from `connectDocker()`. */
  readonly docker: DockerApi;
  /** Monotonic clock in milliseconds; stamps samples and judges their age. */
  readonly now: () => number;
  /** A sample older than this is not returned by `get`. @default 10000 */
  readonly maxAgeMs?: number;
  /** Gets one line per failure streak of a stream (not one per retry) and one per recovery. @default consoleLogger() */
  readonly log?: Logger;
  /** Called with every new sample, e.g. to export it. */
  readonly onSample?: (backend: string, sample: ResourceSample) => void;
  /** Called with every failed attempt to follow a container (each retry, not once per streak), e.g. to count it. */
  readonly onError?: (backend: string, error: Error) => void;
  /** Reconnect pacing after a stream fails or ends. */
  readonly backoff?: BackoffOptions;
}

/** Live resource stats for tracked backends. */
export interface DockerStats extends ResourceStats {
  /**
   * Follow `container` (id or name) for `backend`. Re-tracking a backend with another container
   * switches over; with the same container it is a no-op.
   */
  track(backend: string, container: string): void;
  /** Stop following the backend and drop its sample. */
  untrack(backend: string): void;
  /** Backends currently tracked, in tracking order. */
  tracked(): string[];
  /** Latest sample for the backend, or undefined when none is younger than `maxAgeMs`. */
  get(backend: string): ResourceSample | undefined;
  /** Stop every stream; resolves when all have closed. */
  close(): Promise<void>;
}

interface Tracked {
  readonly container: string;
  readonly abort: AbortController;
  sample?: ResourceSample;
  done: Promise<void>;
}

/**
 * Start a stats collector. Nothing is requested until a backend is tracked.
 *
 * @example Feed least_resources
 * ```ts
 * const stats = createDockerStats({ docker: connectDocker(), now: () => performance.now() });
 * stats.track("api-1", "compose-api-1");
 * const strategy = createStrategy("least_resources", { random: Math.random, now, stats });
 * ```
 */
export function createDockerStats(options: DockerStatsOptions): DockerStats {
  const { docker, now } = options;
  const maxAgeMs = options.maxAgeMs ?? 10_000;
  const log = options.log ?? consoleLogger();
  const entries = new Map<string, Tracked>();
  // Aborted by close(); cancels requests shared between backends.
  const lifetime = new AbortController();
  // Fetched once, on the first stream that needs it; retried by that stream's backoff on failure.
  let hostMemory: Promise<number> | undefined;

  const getHostMemory = (): Promise<number> => {
    hostMemory ??= docker.info({ abortSignal: lifetime.signal }).then((info) => info.MemTotal);
    return hostMemory.catch((error) => {
      hostMemory = undefined;
      throw error;
    });
  };

  const follow = async (backend: string, entry: Tracked): Promise<void> => {
    const signal = entry.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const memTotal = await getHostMemory();
        const container = docker.getContainer(entry.container);
        // The quota decides what "fully busy" means for this container; read it once per stream.
        const cpus = availableCpus((await container.inspect({ abortSignal: signal })).HostConfig);
        const stream = await container.stats({ stream: true, abortSignal: signal });
        await followJsonLines(stream, (document) => {
          const sample = toSample(document as DockerStatsDocument, memTotal, cpus, now());
          if (!sample || entries.get(backend) !== entry) return;
          if (failures > 0) {
            log("info", "docker stats: following container again", { backend, container: entry.container });
          }
          failures = 0;
          entry.sample = sample;
          options.onSample?.(backend, sample);
        });
        // The engine keeps the stream open across stop and start (sending empty frames meanwhile) and
        // ends it when the container is removed: retry by name, so a recreated container is picked up.
        if (!signal.aborted) throw new Error("stats stream ended (container removed?)");
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        options.onError?.(backend, error instanceof Error ? error : new Error(String(error)));
        if (failures === 1) {
          log("warn", "docker stats: cannot follow container, retrying with backoff", {
            backend,
            container: entry.container,
            error: errorMessage(error),
          });
        }
        await sleep(backoffDelay(failures, options.backoff), signal);
      }
    }
  };

  const untrack = (backend: string): void => {
    const entry = entries.get(backend);
    if (!entry) return;
    entries.delete(backend);
    entry.abort.abort();
  };

  return {
    track(backend, container) {
      if (entries.get(backend)?.container === container) return;
      untrack(backend);
      const entry: Tracked = { container, abort: new AbortController(), done: Promise.resolve() };
      entries.set(backend, entry);
      entry.done = follow(backend, entry);
    },
    untrack,
    tracked: () => [...entries.keys()],
    get(backend) {
      const sample = entries.get(backend)?.sample;
      if (!sample || now() - sample.at > maxAgeMs) return undefined;
      return sample;
    },
    async close() {
      const pending = [...entries.values()].map((entry) => entry.done);
      for (const backend of [...entries.keys()]) untrack(backend);
      lifetime.abort();
      await Promise.all(pending);
    },
  };
}

/** A sample from one document, or undefined when CPU or memory cannot be computed from it. */
function toSample(
  document: DockerStatsDocument,
  hostMemory: number,
  cpus: number | undefined,
  at: number,
): ResourceSample | undefined {
  const cpu = cpuRatio(document, cpus);
  const memory = memoryRatio(document, hostMemory);
  if (cpu === undefined || memory === undefined) return undefined;
  return { cpu, memory, at };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
