/**
 * Backends and who may take a request: the pool, the balancer around the strategy, active health
 * checks, membership changes and the hot reload of one pool.
 *
 * @module
 */

export type { Backend, BackendSource, BackendState } from "./backend.ts";
export { Balancer } from "./balancer.ts";
export type { StrategyChange } from "./balancer.ts";
export { HealthChecker } from "./health.ts";
export type { HealthStatus } from "./health.ts";
export { differs, joinBackend, leaveBackend, sameOrigin, updateBackend } from "./membership.ts";
export type { ContainerTracker, MembershipTarget } from "./membership.ts";
export { ejectionTarget, Pool } from "./pool.ts";
export { applyServiceConfig } from "./reload.ts";
export type { PoolReport, ReloadTarget } from "./reload.ts";
