/**
 * The request handler: admission, one attempt per backend tried, retries, hedged requests, sticky
 * sessions, header rewriting and body replay.
 *
 * @module
 */

export { createProxyHandler } from "./handler.ts";
export type { ProxyDeps } from "./handler.ts";
export type { HedgeWinner } from "./hedge.ts";
export type { RequestState } from "./request_state.ts";
export { StickySessions } from "./sticky.ts";
