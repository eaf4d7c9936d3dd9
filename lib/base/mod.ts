/**
 * The base layer: the logger, one-timer deadlines, reconnect backoff, random ids and the version.
 * Imports nothing from lib/; every other layer may use it.
 *
 * @module
 */

export { backoffDelay, sleep } from "./backoff.ts";
export type { BackoffOptions } from "./backoff.ts";
export { Deadlines } from "./deadlines.ts";
export type { Expiring } from "./deadlines.ts";
export { RandomIds } from "./ids.ts";
export { consoleLogger, memoryLogger } from "./log.ts";
export type { Level, Logger } from "./log.ts";
export { VERSION } from "./version.ts";
