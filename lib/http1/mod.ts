/**
 * The HTTP/1.1 wire format both sides of the proxy share (RFC 9112): a buffered connection,
 * body streams, head tokenizing, chunked coding and status texts.
 *
 * @module
 */

export { bodyStream } from "./body_stream.ts";
export type { BodyOutcome } from "./body_stream.ts";
export { BufferedConn, CHUNK_BYTES, ConnectionClosed, ProtocolError } from "./buffered_conn.ts";
export {
  encodeChunk,
  framingOf,
  headEnd,
  LAST_CHUNK,
  latin1,
  MAX_HEAD_BYTES,
  parseChunkSize,
  parseHead,
  requestHead,
} from "./framing.ts";
export type { ResponseHead } from "./framing.ts";
export { STATUS_TEXT } from "./status_text.ts";
