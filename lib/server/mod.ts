/**
 * Wiring: {@linkcode startLoadBalancer} builds every part from a config and owns startup, reload and
 * graceful shutdown.
 *
 * @module
 */

export { startLoadBalancer } from "./start.ts";
export type { LoadBalancer, StartOptions } from "./start.ts";
export { runWorker } from "./worker.ts";
export { ListenError } from "./listen.ts";
