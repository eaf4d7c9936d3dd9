/**
 * HTTP/1.1 body framing both sides share (RFC 9112 sections 6 and 7): how a body is delimited,
 * and the chunked transfer coding.
 *
 * @module
 */

import { trimOws } from "./head.ts";

const CR = 13;
const LF = 10;

/** How a message body is delimited (RFC 9112 section 6.3 for responses, 6.1-6.2 for requests). */
export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** Parse a chunk-size line (`1a;ext=1`) without the CRLF; -1 when malformed. */
export function parseChunkSize(line: string): number {
  const semi = line.indexOf(";");
  const hex = trimOws(semi === -1 ? line : line.slice(0, semi));
  if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) return -1;
  return parseInt(hex, 16);
}

/** Encode one chunk of a chunked request body. */
export function encodeChunk(data: Uint8Array): Uint8Array {
  const prefix = `${data.length.toString(16)}\r\n`;
  const out = new Uint8Array(prefix.length + data.length + 2);
  for (let i = 0; i < prefix.length; i++) out[i] = prefix.charCodeAt(i);
  out.set(data, prefix.length);
  out[out.length - 2] = CR;
  out[out.length - 1] = LF;
  return out;
}

/** The terminating zero-length chunk with no trailers. */
export const LAST_CHUNK: Uint8Array = new TextEncoder().encode("0\r\n\r\n");
