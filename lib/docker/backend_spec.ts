/**
 * Read a backend definition off a container's labels and network settings.
 *
 * Kept apart from the event loop in `discovery.ts` so the rules (which label enables a
 * container, which port and address are used) are plain functions of the inspect document. The
 * label rules are shared with Swarm tasks (`task_spec.ts`).
 *
 * @module
 */

import type { ContainerInspect } from "./api.ts";

/** A backend found by discovery; its service adds or replaces it by `name`. */
export interface BackendSpec {
  /** The service it joins: its service label's value, `default` without one. */
  readonly service: string;
  /** The container name (without Docker's leading slash). */
  readonly name: string;
  /** `http://<container address>:<port>`. */
  readonly url: string;
  /** From the weight label, default 1. */
  readonly weight: number;
  /** Container name or id, for the stats collector; absent when its stats cannot be read here. */
  readonly container?: string;
}

/** Which labels and network discovery reads. */
export interface SpecRules {
  /** Label that enables a container, as `key` (meaning `key=true`) or `key=value`. */
  readonly label: string;
  /** Label holding the backend port. */
  readonly portLabel: string;
  /** Label holding the backend weight. */
  readonly weightLabel: string;
  /** Label naming the service. */
  readonly serviceLabel: string;
  /** Port used when the port label is absent. */
  readonly defaultPort: number;
  /** Network to take the address from; empty: the first network (by name) that has an address. */
  readonly network: string;
}

/**
 * The rules of a `discovery.docker` config: its labels and network, the weight label `lb.weight`
 * and port 80 when the port label is absent.
 */
export function specRules(config: {
  readonly label: string;
  readonly portLabel: string;
  readonly serviceLabel: string;
  readonly network: string;
}): SpecRules {
  return {
    label: config.label,
    portLabel: config.portLabel,
    weightLabel: "lb.weight",
    serviceLabel: config.serviceLabel,
    defaultPort: 80,
    network: config.network,
  };
}

/** The outcome of reading one container: a spec, or why it cannot be a backend. */
export type SpecResult =
  | { readonly ok: true; readonly spec: BackendSpec }
  | { readonly ok: false; readonly reason: string };

/**
 * The engine filter for the enabling label: `lb.enable` means `lb.enable=true`, and an explicit
 * `key=value` is kept as is.
 *
 * @example
 * ```ts
 * labelFilter("lb.enable"); // "lb.enable=true"
 * labelFilter("team=web"); // "team=web"
 * ```
 */
export function labelFilter(label: string): string {
  return label.includes("=") ? label : `${label}=true`;
}

/** True when `labels` carry the enabling label with its value. */
export function hasEnablingLabel(labels: Record<string, string> | null | undefined, label: string): boolean {
  const [key, value] = splitOnce(labelFilter(label), "=");
  return labels?.[key] === value;
}

/**
 * Build the backend spec for a container, or say why it cannot be one.
 *
 * @example
 * ```ts
 * const result = backendSpec(await docker.getContainer("web-1").inspect(), rules);
 * if (result.ok) sink.upsert(result.spec);
 * ```
 */
export function backendSpec(container: ContainerInspect, rules: SpecRules): SpecResult {
  const name = container.Name.replace(/^\//, "");
  const labels = container.Config.Labels ?? {};
  const what = `container "${name}"`;
  if (!hasEnablingLabel(labels, rules.label)) {
    return { ok: false, reason: `${what} lacks label ${labelFilter(rules.label)}` };
  }
  if (!container.State.Running) return { ok: false, reason: `${what} is not running` };
  const read = readLabels(what, labels, rules);
  if (!read.ok) return read;
  const address = containerAddress(container, rules.network);
  if (!address.ok) return { ok: false, reason: `Cannot use ${what} as a backend: ${address.reason}` };
  return {
    ok: true,
    spec: {
      service: read.service,
      name,
      url: backendUrl(address.ip, read.port),
      weight: read.weight,
      container: name,
    },
  };
}

/** What the labels of a container or Swarm service say about its backends. */
export type LabelResult =
  | { readonly ok: true; readonly port: number; readonly weight: number; readonly service: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Read the port, weight and service labels of `what` (`container "web-1"`, `swarm service "web"`):
 * the port label or `rules.defaultPort`, weight 1 and service `default` when absent.
 */
export function readLabels(what: string, labels: Record<string, string>, rules: SpecRules): LabelResult {
  const portText = labels[rules.portLabel];
  const port = portText === undefined ? rules.defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return {
      ok: false,
      reason: `Cannot use ${what} as a backend: label ${rules.portLabel} must be a port 1-65535, ` +
        `current value is "${portText}"`,
    };
  }
  const weightText = labels[rules.weightLabel];
  const weight = weightText === undefined ? 1 : Number(weightText);
  if (!(weight > 0) || !Number.isFinite(weight)) {
    return {
      ok: false,
      reason: `Cannot use ${what} as a backend: label ${rules.weightLabel} must be a positive ` +
        `number, current value is "${weightText}"`,
    };
  }
  const service = labels[rules.serviceLabel] ?? "default";
  if (!/^[a-z0-9_.-]{1,64}$/.test(service)) {
    return {
      ok: false,
      reason: `Cannot use ${what} as a backend: label ${rules.serviceLabel} must be a service ` +
        `name ([a-z0-9_.-]{1,64}), current value is "${service}"`,
    };
  }
  return { ok: true, port, weight, service };
}

/** `http://<ip>:<port>`, brackets around an IPv6 address. */
export function backendUrl(ip: string, port: number): string {
  return `http://${ip.includes(":") ? `[${ip}]` : ip}:${port}`;
}

function containerAddress(
  container: ContainerInspect,
  network: string,
): { ok: true; ip: string } | { ok: false; reason: string } {
  const networks = container.NetworkSettings.Networks ?? {};
  const ipOf = (n: string) => networks[n]?.IPAddress || networks[n]?.GlobalIPv6Address || "";
  if (network) {
    const ip = ipOf(network);
    if (ip) return { ok: true, ip };
    return {
      ok: false,
      reason: `it has no address on network "${network}" (attached to: ${
        Object.keys(networks).join(", ") || "none"
      })`,
    };
  }
  // Sorted so "first" does not depend on the engine's map order.
  const first = Object.keys(networks).sort().find((n) => ipOf(n));
  if (first) return { ok: true, ip: ipOf(first) };
  return {
    ok: false,
    reason: `it has no network address (network mode "${container.HostConfig.NetworkMode ?? "default"}")`,
  };
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return [text.slice(0, at), text.slice(at + 1)];
}
