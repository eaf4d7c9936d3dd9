/**
 * Backends and who may take a request: the pool, the balancer around the strategy, active health
 * checks, membership changes and hot reload.
 *
 * @module
 */

export type { Backend } from "./backend.ts";
export { Balancer } from "./balancer.ts";
export { HealthChecker } from "./health.ts";
export { differs, joinBackend, leaveBackend, updateBackend } from "./membership.ts";
export type { ContainerTracker, MembershipTarget } from "./membership.ts";
export { ejectionTarget, Pool } from "./pool.ts";
export { reloadFrom } from "./reload.ts";
export type { Reloader, ReloadResult, ReloadTarget } from "./reload.ts";
