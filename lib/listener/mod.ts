/**
 * The public listener: a strict HTTP/1.1 server on `Deno.listen` with header and idle timeouts, and
 * no `Request`/`Response` objects on the hot path.
 *
 * @module
 */

export { textResponse } from "./response_writer.ts";
export type { ExchangeEnd, ServerResponse, ServerTunnel } from "./response_writer.ts";
export { createConnections } from "./connections.ts";
export type { ConnectionOptions, Connections } from "./connections.ts";
export type { Rejection } from "./request_head.ts";
export { listenOn, serveHttp1 } from "./server.ts";
export type { Http1Handler, Http1Server, ServerRequest } from "./server.ts";
export { serveTls } from "./tls.ts";
export type { HandshakeFailure, TlsServer } from "./tls.ts";
export { certificateNames } from "./sni.ts";
export { PairLoadError } from "./tls_terminators.ts";
export type { PemCert, SniCert } from "./tls_terminators.ts";
