/**
 * The slice of the Docker Engine API the balancer uses, and the one place that builds a client.
 *
 * dockerode ships no types of its own and the published ones lag behind it (no `abortSignal` on
 * streaming calls), so the calls we make are typed here, structurally. Anything shaped like this
 * works, which keeps the stats and discovery modules independent of the client library.
 *
 * @module
 */

/** A Node-style readable stream, as dockerode returns for streaming endpoints. */
export interface NodeReadable {
  /** Subscribe to chunks, errors and the end of the stream. */
  on(event: "data", listener: (chunk: Uint8Array | string) => void): this;
  /** Subscribe to chunks, errors and the end of the stream. */
  on(event: "error", listener: (error: Error) => void): this;
  /** Subscribe to chunks, errors and the end of the stream. */
  on(event: "end" | "close", listener: () => void): this;
  /** Tear the stream down (closes the HTTP connection). */
  destroy(): void;
}

/** Options for a streaming call; aborting ends the stream with an "aborted" error. */
export interface StreamOptions {
  /** Cancels the request and the stream. */
  readonly abortSignal?: AbortSignal;
}

/** The parts of `GET /containers/{id}/json` we read. */
export interface ContainerInspect {
  readonly Id: string;
  /** With a leading slash, as the engine reports it. */
  readonly Name: string;
  readonly State: { readonly Running: boolean };
  readonly Config: { readonly Labels?: Record<string, string> | null };
  readonly HostConfig: {
    readonly NanoCpus?: number;
    readonly CpuQuota?: number;
    readonly CpuPeriod?: number;
    readonly CpusetCpus?: string;
    readonly NetworkMode?: string;
  };
  readonly NetworkSettings: {
    readonly Networks?: Record<string, { readonly IPAddress?: string; readonly GlobalIPv6Address?: string }>;
  };
}

/** One container handle. */
export interface ContainerApi {
  /** `GET /containers/{id}/json`. */
  inspect(options?: StreamOptions): Promise<ContainerInspect>;
  /** `GET /containers/{id}/stats?stream=true`: one JSON document per line, about once a second. */
  stats(options: { stream: true } & StreamOptions): Promise<NodeReadable>;
}

/** The parts of `GET /containers/json` we read. */
export interface ContainerSummary {
  readonly Id: string;
  readonly Names: readonly string[];
  readonly Labels?: Record<string, string>;
}

/** The parts of `GET /services` (Swarm, managers only) we read. */
export interface ServiceSummary {
  readonly ID: string;
  readonly Spec: {
    readonly Name: string;
    /** The service's own labels (`deploy.labels` in a stack file), not its containers'. */
    readonly Labels?: Record<string, string> | null;
  };
}

/** One network attachment of a Swarm task. */
export interface TaskNetworkAttachment {
  readonly Network: {
    readonly Spec: { readonly Name: string; readonly Ingress?: boolean };
  };
  /** CIDR notation, `10.0.2.5/24`. */
  readonly Addresses?: readonly string[] | null;
}

/** The parts of `GET /tasks` (Swarm, managers only) we read. */
export interface TaskSummary {
  readonly ID: string;
  readonly ServiceID: string;
  /** Replica number of a replicated service; absent for a global one. */
  readonly Slot?: number;
  readonly NodeID?: string;
  /** `running` while the orchestrator wants it; `shutdown` or `remove` once it is on its way out. */
  readonly DesiredState: string;
  readonly Status: {
    /** `running` once started and, with a health check, healthy. */
    readonly State: string;
    readonly ContainerStatus?: { readonly ContainerID?: string };
  };
  readonly NetworksAttachments?: readonly TaskNetworkAttachment[] | null;
}

/** The parts of `GET /info` we read. */
export interface EngineInfo {
  /** Host memory in bytes. */
  readonly MemTotal: number;
  /** This node's Swarm membership; `NodeID` is empty outside a swarm. */
  readonly Swarm?: { readonly NodeID?: string; readonly LocalNodeState?: string };
}

/** The engine calls used by the stats collector and discovery; all of them read only. */
export interface DockerApi {
  /** A handle for a container id or name; no request is made. */
  getContainer(idOrName: string): ContainerApi;
  /** `GET /info`. */
  info(options?: StreamOptions): Promise<EngineInfo>;
  /** `GET /containers/json` with filters (`{label: ["k=v"], status: ["running"]}`). */
  listContainers(
    options: { filters: Record<string, string[]> } & StreamOptions,
  ): Promise<readonly ContainerSummary[]>;
  /** `GET /events`: one JSON document per line, until aborted. */
  getEvents(options: { filters: Record<string, string[]> } & StreamOptions): Promise<NodeReadable>;
  /** `GET /services` with filters (`{label: ["k=v"]}`); 503 on a node that is not a Swarm manager. */
  listServices(
    options: { filters: Record<string, string[]> } & StreamOptions,
  ): Promise<readonly ServiceSummary[]>;
  /** `GET /tasks` with filters (`{service: [id], "desired-state": ["running"]}`); managers only. */
  listTasks(options: { filters: Record<string, string[]> } & StreamOptions): Promise<readonly TaskSummary[]>;
}

/**
 * True when a Swarm listing failed because this node cannot answer it: the engine did not
 * answer at all, or it is not a Swarm manager (503 "This node is not a swarm manager").
 */
export function swarmApiUnavailable(error: Error): boolean {
  return engineUnreachable(error) || (error as { statusCode?: unknown }).statusCode === 503;
}

/**
 * True for failures that mean the engine did not answer (no socket, refused, reset, no
 * permission), as opposed to an answer such as 404 for a container that went away.
 */
export function engineUnreachable(error: Error): boolean {
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof statusCode === "number") return false;
  return typeof code === "string" || error.name === "NotCapable" || error.name === "PermissionDenied";
}

/**
 * Connect to the Docker Engine over its unix socket. No request is made until the first call.
 *
 * @param socketPath Path of the engine's socket.
 * @default socketPath "/var/run/docker.sock"
 * @example Read the host memory
 * ```ts
 * const docker = connectDocker();
 * const { MemTotal } = await docker.info();
 * ```
 */
export function connectDocker(socketPath = "/var/run/docker.sock"): DockerApi {
  // dockerode and its dependencies read the environment when loaded (readable-stream, debug), so
  // they are imported on first use: a proxy that never talks to Docker never loads them and needs
  // no broader --allow-env than its own.
  let client: Promise<DockerApi> | undefined;
  const engine = () =>
    client ??= import("dockerode").then(({ default: Docker }) =>
      new Docker({ socketPath }) as unknown as DockerApi
    );
  return {
    getContainer: (idOrName) => ({
      inspect: async (options) => await (await engine()).getContainer(idOrName).inspect(options),
      stats: async (options) => await (await engine()).getContainer(idOrName).stats(options),
    }),
    info: async (options) => await (await engine()).info(options),
    listContainers: async (options) => await (await engine()).listContainers(options),
    getEvents: async (options) => await (await engine()).getEvents(options),
    listServices: async (options) => await (await engine()).listServices(options),
    listTasks: async (options) => await (await engine()).listTasks(options),
  };
}
