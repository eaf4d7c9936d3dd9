/**
 * The request handler: admission, one attempt per backend tried, retries, header rewriting and body
 * replay.
 *
 * @module
 */

export { createProxyHandler } from "./handler.ts";
export { logged } from "./access.ts";
export type { AccessFacts, AccessSink } from "./access.ts";
