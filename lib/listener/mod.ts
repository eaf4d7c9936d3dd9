/**
 * The public listener: a strict HTTP/1.1 server on `Deno.listen` with header and idle timeouts, and
 * no `Request`/`Response` objects on the hot path.
 *
 * @module
 */

export { textResponse } from "./response_writer.ts";
export type { ServerResponse, ServerTunnel } from "./response_writer.ts";
export { serveHttp1 } from "./server.ts";
export type { Http1Handler, Http1Server, ServerRequest } from "./server.ts";
