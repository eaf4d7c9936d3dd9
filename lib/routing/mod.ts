/**
 * Routing: which service answers a request, by host, path prefix, method and headers, first
 * match wins; weighted splits between services.
 *
 * @module
 */

export { Router } from "./router.ts";
export type { RouteChoice, RoutedRequest } from "./router.ts";
