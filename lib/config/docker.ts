/**
 * Config for the Docker integration: the `discovery.docker` section, and when the proxy talks to
 * the Docker Engine at all.
 *
 * The proxy opens the engine's socket only when the config asks for it: discovery is enabled, or
 * some static backend names a `container` (for the `least_resources` stats). A config with
 * neither never touches Docker, whatever the strategy.
 *
 * @module
 */

import type { Node } from "yaml";
import type { Reader } from "./reader.ts";
import type { DockerDiscoveryConfig } from "./types.ts";
import { readSwarmKeys, SWARM_DEFAULTS, SWARM_KEYS } from "./swarm.ts";

/** Defaults of `discovery.docker`: off. */
export const DOCKER_DISCOVERY_DEFAULTS: DockerDiscoveryConfig = {
  enabled: false,
  socket: "/var/run/docker.sock",
  label: "lb.enable",
  portLabel: "lb.port",
  serviceLabel: "lb.service",
  network: "",
  ...SWARM_DEFAULTS,
};

const DOCKER_KEYS = [
  "enabled",
  "socket",
  "label",
  "port_label",
  "service_label",
  "network",
  ...SWARM_KEYS,
] as const;
/** A label key, optionally `=value`: what `docker run --label` accepts, without spaces. */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}(=[^\s=]{1,128})?$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;

/** Read `discovery: {docker: {...}}`; absent means the defaults (discovery off). */
export function readDiscovery(r: Reader, node: Node | undefined): DockerDiscoveryConfig | undefined {
  if (node === undefined) return DOCKER_DISCOVERY_DEFAULTS;
  const top = r.map(node, "discovery", ["docker"]);
  if (!top) return undefined;
  if (!top.has("docker")) return DOCKER_DISCOVERY_DEFAULTS;
  const m = r.map(top.get("docker"), "discovery.docker", DOCKER_KEYS);
  if (!m) return undefined;
  const d = DOCKER_DISCOVERY_DEFAULTS;
  const enabled = m.has("enabled") ? r.boolean(m.get("enabled"), "discovery.docker.enabled") : d.enabled;
  const socket = m.has("socket") ? r.string(m.get("socket"), "discovery.docker.socket") : d.socket;
  if (socket !== undefined && !socket.startsWith("/")) {
    r.fail(r.nodeOf(m.get("socket")), "discovery.docker.socket", `must be an absolute path, got "${socket}"`);
    return undefined;
  }
  const label = readLabel(r, m.get("label"), "discovery.docker.label", d.label, LABEL);
  const portLabel = readLabel(r, m.get("port_label"), "discovery.docker.port_label", d.portLabel, LABEL_KEY);
  const serviceLabel = readLabel(
    r,
    m.get("service_label"),
    "discovery.docker.service_label",
    d.serviceLabel,
    LABEL_KEY,
  );
  const network = m.has("network") ? r.string(m.get("network"), "discovery.docker.network") : d.network;
  const swarm = readSwarmKeys(r, m);
  if (
    enabled === undefined || socket === undefined || label === undefined || portLabel === undefined ||
    serviceLabel === undefined || network === undefined || swarm === undefined
  ) return undefined;
  return { enabled, socket, label, portLabel, serviceLabel, network, ...swarm };
}

function readLabel(
  r: Reader,
  node: Node | undefined,
  path: string,
  fallback: string,
  pattern: RegExp,
): string | undefined {
  if (node === undefined) return fallback;
  const text = r.string(node, path);
  if (text === undefined) return undefined;
  if (!pattern.test(text)) {
    const what = pattern === LABEL ? "a label key or key=value" : "a label key";
    r.fail(r.nodeOf(node), path, `must be ${what} without spaces, got "${text}"`);
    return undefined;
  }
  return text;
}

/**
 * True when the proxy must talk to the Docker Engine: discovery is on, or a backend names a
 * container whose stats `least_resources` reads.
 */
export function needsDocker(config: {
  readonly discovery: { readonly docker: DockerDiscoveryConfig };
  readonly services: readonly { readonly backends: readonly { readonly container?: string }[] }[];
}): boolean {
  return config.discovery.docker.enabled ||
    config.services.some((s) => s.backends.some((b) => b.container !== undefined));
}
