/**
 * The proxy's Docker connection, made on first need: at start when the config asks for Docker,
 * or when a reload adds the first backend that names a container. Until then nothing touches
 * the engine's socket, and `least_resources` sees no samples.
 *
 * @module
 */

import type { ResourceStats } from "../../algorithms/mod.ts";
import type { Config } from "../config/mod.ts";
import {
  createDockerIntegration,
  type DockerIntegration,
  type DockerIntegrationOptions,
} from "./integration.ts";
import type { DiscoverySink } from "./discovery.ts";
import type { Logger } from "../base/mod.ts";
import type { ContainerTracker } from "../pool/mod.ts";

/** A Docker integration created lazily; see the module documentation. */
export interface DockerLink extends ContainerTracker {
  /** Samples of tracked backends; empty until connected. */
  readonly stats: ResourceStats;
  /** The integration, connecting now when not yet connected. */
  connect(): DockerIntegration;
  /** Close the integration when one was made. */
  close(): Promise<void>;
}

/** Options for {@linkcode lazyDocker}: those of the integration, with the socket read at connect time. */
export interface DockerLinkOptions extends Omit<DockerIntegrationOptions, "socket"> {
  /** Socket of the config in effect when connecting. */
  readonly socket: () => string;
}

/**
 * A link that connects on first `connect()` or `track()`, logging that it does.
 *
 * @example
 * ```ts
 * const docker = lazyDocker({ socket: () => config.discovery.docker.socket, registry, log, now });
 * docker.track("b1", "web-1"); // connects here
 * ```
 */
export function lazyDocker(options: DockerLinkOptions): DockerLink {
  let integration: DockerIntegration | undefined;
  const connect = () => {
    if (!integration) {
      const socket = options.socket();
      options.log("info", "docker: connecting to the engine", { socket });
      integration = createDockerIntegration({ ...options, socket });
    }
    return integration;
  };
  return {
    stats: { get: (backend) => integration?.stats.get(backend) },
    connect,
    track: (backend, container) => connect().track(backend, container),
    untrack: (backend) => integration?.untrack(backend),
    close: async () => await integration?.close(),
  };
}

/**
 * Start discovery when the config enables it and wait, at most `waitMs`, for its first listing,
 * so discovered backends join the first health round and the listener opens on a probed pool.
 */
export async function startDiscovery(
  link: DockerLink,
  sink: DiscoverySink,
  config: Config,
  waitMs: number,
  log: Logger,
): Promise<void> {
  if (!config.discovery.docker.enabled) return;
  const synced = await link.connect().discover(sink, config.discovery.docker, waitMs);
  if (!synced) log("warn", "docker discovery: nothing listed yet; starting with the configured backends");
}

/** `least_resources` without any container to read falls back to least in-flight; say so once per service. */
export function warnIfBlind(config: Config, log: Logger): void {
  if (config.discovery.docker.enabled) return;
  for (const s of config.services) {
    if (s.strategy !== "least_resources" || s.backends.some((b) => b.container !== undefined)) continue;
    log("warn", "least_resources has no container stats; it picks by requests in flight", {
      service: s.name,
      hint: "name backends[].container or enable discovery.docker",
    });
  }
}
