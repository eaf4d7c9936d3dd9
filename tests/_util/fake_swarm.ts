/**
 * A Swarm manager's API for tests, over services and tasks a test sets: what
 * `createSwarmDiscovery` reads (`GET /info`, `/services`, `/tasks`, `/events`), with the filters
 * the engine applies. Real-engine coverage is scripts/e2e-swarm.sh, which runs a swarm.
 *
 * @module
 */

import type { DockerApi, NodeReadable, ServiceSummary, TaskSummary } from "../../lib/docker/api.ts";

/** This fake node's id: tasks in odd slots run here. */
export const NODE = "node0000000000000000000001";

/** An event stream the test writes to; ends when the request is aborted, as dockerode's does. */
export class FakeStream implements NodeReadable {
  /** Listeners by event name. */
  #listeners = new Map<string, ((value?: unknown) => void)[]>();
  /** Subscribe to `data`, `error`, `end` or `close`. */
  on(event: string, listener: (value: never) => void): this {
    this.#listeners.set(event, [
      ...(this.#listeners.get(event) ?? []),
      listener as (value?: unknown) => void,
    ]);
    return this;
  }
  /** Call the listeners of `event`. */
  emit(event: string, value?: unknown): void {
    for (const l of this.#listeners.get(event) ?? []) l(value);
  }
  /** Send one event document, as one JSON line. */
  write(event: object): void {
    this.emit("data", `${JSON.stringify(event)}\n`);
  }
  /** End the stream, as closing the connection does. */
  destroy(): void {
    this.emit("close");
  }
}

/** A swarm manager's API over services and tasks the test sets; `failure` makes every call throw. */
export function fakeManager() {
  const state = {
    services: [] as ServiceSummary[],
    tasks: [] as TaskSummary[],
    failure: undefined as Error | undefined,
    listings: 0,
    streams: [] as FakeStream[],
  };
  const fail = () => {
    if (state.failure) throw state.failure;
  };
  const api: DockerApi = {
    getContainer: () => {
      throw new Error("discovery must not inspect containers in swarm mode");
    },
    info: () => Promise.resolve({ MemTotal: 0, Swarm: { NodeID: NODE } }),
    listContainers: () => Promise.reject(new Error("discovery must not list containers in swarm mode")),
    listServices: ({ filters }) => {
      state.listings++;
      fail();
      const [key, value] = filters.label[0].split("=");
      return Promise.resolve(state.services.filter((s) => s.Spec.Labels?.[key] === value));
    },
    listTasks: ({ filters }) => {
      fail();
      return Promise.resolve(
        state.tasks.filter((t) =>
          filters.service.includes(t.ServiceID) && filters["desired-state"].includes(t.DesiredState)
        ),
      );
    },
    getEvents: ({ abortSignal }) => {
      fail();
      const stream = new FakeStream();
      abortSignal?.addEventListener("abort", () => stream.emit("error", new Error("aborted")), {
        once: true,
      });
      state.streams.push(stream);
      return Promise.resolve(stream);
    },
  };
  return { state, api };
}

/** A service `name` with deploy labels (`lb.stack=demo` unless told). */
export function service(
  id: string,
  name: string,
  labels: Record<string, string> = { "lb.stack": "demo" },
): ServiceSummary {
  return { ID: id, Spec: { Name: name, Labels: labels } };
}

/** A task of `serviceId` at `<prefix>.<slot>` on `demo-net`; running unless told. */
export function task(
  serviceId: string,
  slot: number,
  state = "running",
  desired = "running",
  prefix = "10.0.9",
): TaskSummary {
  return {
    ID: `task${String(slot).padStart(21, "0")}`,
    ServiceID: serviceId,
    Slot: slot,
    NodeID: slot % 2 ? NODE : "node0000000000000000000002",
    DesiredState: desired,
    Status: { State: state, ContainerStatus: { ContainerID: `container${slot}` } },
    NetworksAttachments: [{ Network: { Spec: { Name: "demo-net" } }, Addresses: [`${prefix}.${slot}/24`] }],
  };
}
