/**
 * The proxy's one connection to the Docker Engine: the stats collector for `least_resources`,
 * discovery (of containers, or of Swarm tasks) when enabled, and the metrics that say whether the
 * engine answers.
 *
 * Created only when the config asks for Docker (see `needsDocker` in `config_docker.ts`); its
 * creation is logged, so the proxy never talks to the engine silently. When the engine is
 * unreachable the proxy keeps serving the backends it has; the stats and discovery modules
 * reconnect with backoff, and this module turns their outcomes into `lb_docker_up` and
 * `lb_docker_errors_total`.
 *
 * @module
 */

import { Counter, Gauge, type Registry } from "prom-client";
import type { BackoffOptions, Logger } from "../base/mod.ts";
import type { DockerDiscoveryConfig } from "../config/mod.ts";
import { connectDocker, type DockerApi, engineUnreachable } from "./api.ts";
import { createDockerDiscovery, type DiscoverySink, type DockerDiscovery } from "./discovery.ts";
import { specRules } from "./backend_spec.ts";
import { createSwarmDiscovery } from "./swarm_discovery.ts";
import { createDockerStats, type DockerStats } from "./stats.ts";
import { registerResourceGauges } from "./stats_metrics.ts";
import type { ContainerTracker } from "../pool/mod.ts";

/** Options for {@linkcode createDockerIntegration}. */
export interface DockerIntegrationOptions {
  /** Engine socket (`discovery.docker.socket`). */
  readonly socket: string;
  /** Engine client. @default connectDocker(socket) */
  readonly docker?: DockerApi;
  /** Registry for `lb_docker_*` and the container resource gauges. */
  readonly registry: Registry;
  readonly log: Logger;
  /** Monotonic clock in milliseconds (stamps resource samples). */
  readonly now: () => number;
  /** Reconnect pacing for stats and discovery. */
  readonly backoff?: BackoffOptions;
}

/** A running Docker integration. */
export interface DockerIntegration extends ContainerTracker {
  /** Resource samples per backend, for `least_resources`. */
  readonly stats: DockerStats;
  /**
   * Start discovery into `sink`. Resolves `true` once the running containers are listed and in
   * the sink, or `false` after `waitMs` (the engine may be down; discovery keeps retrying).
   */
  discover(sink: DiscoverySink, config: DockerDiscoveryConfig, waitMs: number): Promise<boolean>;
  /** Stop discovery and every stats stream. */
  close(): Promise<void>;
}

/**
 * Connect the stats collector (and, on request, discovery) to the engine at `socket`. No
 * request is made until a container is tracked or discovery starts.
 *
 * @example
 * ```ts
 * const docker = createDockerIntegration({ socket: "/var/run/docker.sock", registry, log, now });
 * docker.track("b1", "stack-backend1");
 * await docker.discover(sink, config.discovery.docker, 2_000);
 * ```
 */
export function createDockerIntegration(options: DockerIntegrationOptions): DockerIntegration {
  const { socket, registry, log } = options;
  const docker = options.docker ?? connectDocker(socket);
  const up = new Gauge({
    name: "lb_docker_up",
    help:
      "1 when the Docker Engine answered the latest stats or discovery request, 0 when it was unreachable.",
    registers: [registry],
  });
  const errors = new Counter({
    name: "lb_docker_errors_total",
    help: "Failed Docker Engine requests by component (stats, discovery); each retry counts.",
    labelNames: ["component"],
    registers: [registry],
  });
  for (const component of ["stats", "discovery"]) errors.inc({ component }, 0);
  let hinted = false;
  const failed = (component: string, error: Error) => {
    errors.inc({ component });
    if (engineUnreachable(error)) up.set(0);
    // The usual first-run problem in a container: the socket's group is not the process's.
    if ((error as { code?: unknown }).code === "EACCES" && !hinted) {
      hinted = true;
      log("warn", "docker: permission denied on the socket; the process needs the socket's group", {
        socket,
        hint: "compose: DOCKER_GID=$(stat -c %g /var/run/docker.sock); docker run: --group-add <that gid>",
      });
    }
  };

  const stats = createDockerStats({
    docker,
    now: options.now,
    log,
    backoff: options.backoff,
    onSample: () => up.set(1),
    onError: (_backend, error) => failed("stats", error),
  });
  registerResourceGauges(registry, stats);
  let discovery: DockerDiscovery | undefined;

  return {
    stats,
    track(backend, container) {
      if (!stats.tracked().includes(backend)) {
        log("info", "docker stats: following container", { backend, container });
      }
      stats.track(backend, container);
    },
    untrack: (backend) => stats.untrack(backend),
    discover(sink, config, waitMs) {
      if (discovery) throw new RangeError("Cannot start Docker discovery twice");
      log("info", `docker discovery: watching ${config.mode === "swarm" ? "swarm services" : "containers"}`, {
        socket,
        label: config.label,
        port_label: config.portLabel,
        network: config.network || undefined,
      });
      let synced!: (value: boolean) => void;
      const first = new Promise<boolean>((resolve) => synced = resolve);
      const common = { sink, docker, socket, log, backoff: options.backoff };
      const onError = (error: Error) => failed("discovery", error);
      discovery = config.mode === "swarm"
        ? createSwarmDiscovery({
          ...common,
          rules: specRules(config),
          pollIntervalMs: config.pollIntervalMs,
          dnsFallback: config.dnsFallback,
          now: options.now,
          onError,
          onSynced: (source) => {
            // Backends found by DNS do not mean the engine answered.
            if (source === "api") up.set(1);
            synced(true);
          },
        })
        : createDockerDiscovery({
          ...common,
          label: config.label,
          portLabel: config.portLabel,
          serviceLabel: config.serviceLabel,
          network: config.network,
          onError,
          onSynced: () => {
            up.set(1);
            synced(true);
          },
        });
      const timer = setTimeout(() => synced(false), waitMs);
      return first.finally(() => clearTimeout(timer));
    },
    async close() {
      await Promise.all([discovery?.close(), stats.close()]);
    },
  };
}
