/**
 * Services: named pools of backends, each with its own strategy, health checks and resilience,
 * and the set of them a reload adds to, changes and retires.
 *
 * @module
 */

export { Service } from "./service.ts";
export type { ServiceRuntime } from "./service.ts";
export { ServiceSet } from "./services.ts";
export type { ServicesPlan, ServicesReport } from "./services.ts";
export { inEffect, reloadFrom } from "./reload.ts";
export type { Reloader, ReloadReport, ReloadResult } from "./reload.ts";
