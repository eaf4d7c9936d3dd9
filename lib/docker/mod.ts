/**
 * Docker Engine integration: container discovery and container resource stats for
 * `least_resources`, connected only when the config asks for it.
 *
 * @module
 */

export type { DockerApi } from "./api.ts";
export type { BackendSpec, DiscoverySink } from "./discovery.ts";
export { lazyDocker, startDiscovery, warnIfBlind } from "./link.ts";
export type { DockerLink } from "./link.ts";
