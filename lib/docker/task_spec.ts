/**
 * Read backends off Swarm services and their tasks: a running task of a service that carries the
 * enabling label in its deploy labels is a backend at its address on the chosen network.
 *
 * A pure function of the `GET /services` and `GET /tasks` documents, so the rules are tested on
 * fixtures captured from a real swarm. The label rules are the containers' (`backend_spec.ts`),
 * read off the service's labels (`deploy.labels` in a stack file), since a task has no labels
 * of its own.
 *
 * @module
 */

import type { ServiceSummary, TaskNetworkAttachment, TaskSummary } from "./api.ts";
import {
  type BackendSpec,
  backendUrl,
  hasEnablingLabel,
  readLabels,
  type SpecRules,
} from "./backend_spec.ts";

/** Backends found in one listing, and why other tasks or services are not backends. */
export interface SwarmListing {
  readonly specs: readonly BackendSpec[];
  /** One line per service or task that carries the label but cannot be used. */
  readonly skipped: readonly string[];
}

/**
 * The backend name of a task: its container's name, `<service>.<slot>.<task id>` (a global
 * service's tasks have the node id instead of a slot). Every proxy replica derives the same name,
 * which `ip_hash` builds its table from, and the DNS fallback finds the same one in the reverse
 * (PTR) record of the task's address.
 */
export function taskName(service: ServiceSummary, task: TaskSummary): string {
  return `${service.Spec.Name}.${task.Slot ?? task.NodeID}.${task.ID}`;
}

/**
 * The backends of the listed services: for each service with the enabling label, each task the
 * orchestrator wants running that is running (with a health check: healthy). `localNode` is this
 * engine's Swarm node id: only tasks there get a `container` for stats.
 *
 * @example
 * ```ts
 * const services = await docker.listServices({ filters: { label: ["lb.enable=true"] } });
 * const tasks = await docker.listTasks({ filters: { "desired-state": ["running"] } });
 * const { specs } = swarmBackends(services, tasks, rules, nodeId);
 * ```
 */
export function swarmBackends(
  services: readonly ServiceSummary[],
  tasks: readonly TaskSummary[],
  rules: SpecRules,
  localNode = "",
): SwarmListing {
  const specs: BackendSpec[] = [];
  const skipped: string[] = [];
  const byId = new Map<string, { service: ServiceSummary; port: number; weight: number; group: string }>();
  for (const service of services) {
    const labels = service.Spec.Labels ?? {};
    if (!hasEnablingLabel(labels, rules.label)) continue;
    const read = readLabels(`swarm service "${service.Spec.Name}"`, labels, rules);
    if (!read.ok) skipped.push(read.reason);
    else byId.set(service.ID, { service, port: read.port, weight: read.weight, group: read.service });
  }
  for (const task of tasks) {
    const owner = byId.get(task.ServiceID);
    if (!owner || task.DesiredState !== "running" || task.Status.State !== "running") continue;
    const name = taskName(owner.service, task);
    const ip = taskAddress(task.NetworksAttachments ?? [], rules.network);
    if (!ip.ok) {
      skipped.push(`Cannot use task "${name}" as a backend: ${ip.reason}`);
      continue;
    }
    const container = task.NodeID === localNode && localNode !== ""
      ? task.Status.ContainerStatus?.ContainerID
      : undefined;
    specs.push({
      service: owner.group,
      name,
      url: backendUrl(ip.ip, owner.port),
      weight: owner.weight,
      ...(container ? { container } : {}),
    });
  }
  return { specs, skipped };
}

/** The task's address on `network`, or on the first (by name) non-ingress network with one. */
function taskAddress(
  attachments: readonly TaskNetworkAttachment[],
  network: string,
): { ok: true; ip: string } | { ok: false; reason: string } {
  const ipOf = (a: TaskNetworkAttachment) => (a.Addresses ?? [])[0]?.replace(/\/\d+$/, "") ?? "";
  // The ingress network carries published ports to the routing mesh, not traffic between tasks.
  const usable = attachments.filter((a) => !a.Network.Spec.Ingress)
    .toSorted((a, b) => a.Network.Spec.Name.localeCompare(b.Network.Spec.Name));
  const found = usable.find((a) => (network === "" || a.Network.Spec.Name === network) && ipOf(a));
  if (found) return { ok: true, ip: ipOf(found) };
  const names = attachments.map((a) => a.Network.Spec.Name).join(", ") || "none";
  return {
    ok: false,
    reason: network
      ? `it has no address on network "${network}" (attached to: ${names})`
      : `it has no network address (attached to: ${names})`,
  };
}
