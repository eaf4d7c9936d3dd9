/**
 * The request handler: admission, one attempt per backend tried, retries, hedged requests, sticky
 * sessions, header rewriting and body replay.
 *
 * @module
 */

export { createProxyHandler } from "./handler.ts";
export { logged } from "./access.ts";
export type { AccessFacts, AccessSink } from "./access.ts";
export type { ProxyDeps } from "./handler.ts";
export type { HedgeWinner } from "./hedge.ts";
export { StickySessions } from "./sticky.ts";
