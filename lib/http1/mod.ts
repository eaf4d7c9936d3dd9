/**
 * The HTTP/1.1 wire format both sides of the proxy share (RFC 9112): a buffered connection,
 * body streams, head tokenizing, chunked coding and status texts.
 *
 * @module
 */

export { bodyStream } from "./body_stream.ts";
export type { BodyOutcome } from "./body_stream.ts";
export { BufferedConn, CHUNK_BYTES, ConnectionClosed, ProtocolError } from "./buffered_conn.ts";
export { encodeChunk, LAST_CHUNK, parseChunkSize } from "./framing.ts";
export type { BodyFraming } from "./framing.ts";
export { tunnel } from "./tunnel.ts";
export type { TunnelOptions, TunnelResult } from "./tunnel.ts";
export {
  CONNECTION_CLOSE,
  CONNECTION_KEEP_ALIVE,
  CONNECTION_UPGRADE,
  connectionFlags,
  connectionTokens,
  isToken,
  latin1,
  lineEnd,
  parseContentLength,
  parseField,
  pushField,
  trimOws,
} from "./head.ts";
export type { Field, FieldError } from "./head.ts";
export { fieldName, lowerName } from "./field_names.ts";
export { STATUS_TEXT } from "./status_text.ts";
