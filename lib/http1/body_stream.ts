/**
 * A message body read from a connection as a stream: Content-Length, chunked or until close
 * (RFC 9112 section 6.3), for backend responses and client requests alike.
 *
 * @module
 */

import { BufferedConn, CHUNK_BYTES, ConnectionClosed, ProtocolError } from "./buffered_conn.ts";
import { type BodyFraming, parseChunkSize } from "./framing.ts";

/** Trailer fields read (and dropped) at most after a chunked body. */
const MAX_TRAILERS = 100;

/** How a body ended: fully read, broken by the peer, or cancelled by its reader. */
export type BodyOutcome = "complete" | "reset" | "cancelled";

/**
 * Stream a body according to its framing, reporting how it ended exactly once through `finish`,
 * which decides what becomes of the connection (reuse it, or close it after an error or a cancel);
 * a "reset" comes with its error, a {@linkcode ProtocolError} when the framing broke.
 * Pull-based with no queue (`highWaterMark: 0`): bytes are read from the socket only when the
 * consumer asks, so a slow consumer slows the peer down through TCP. `tally.bytes`, when given,
 * grows by every body byte delivered (chunk framing not counted), for the access log.
 */
export function bodyStream(
  conn: BufferedConn,
  framing: Exclude<BodyFraming, { kind: "none" }>,
  finish: (outcome: BodyOutcome, error?: Error) => void,
  tally?: { bytes: number },
): ReadableStream<Uint8Array> {
  let remaining = framing.kind === "length" ? framing.length : 0;
  let chunkLeft = 0;
  let ended = false;
  const end = (outcome: BodyOutcome, error?: Error) => {
    if (ended) return;
    ended = true;
    finish(outcome, error);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (framing.kind === "length") {
          if (remaining === 0) {
            controller.close();
            return end("complete");
          }
          const data = await conn.readSome(Math.min(remaining, CHUNK_BYTES));
          if (data === null) throw new ConnectionClosed("closed before the end of the body", false);
          remaining -= data.length;
          if (tally) tally.bytes += data.length;
          controller.enqueue(data);
          if (remaining === 0) {
            controller.close();
            end("complete");
          }
        } else if (framing.kind === "close") {
          const data = await conn.readSome(CHUNK_BYTES);
          if (data === null) {
            controller.close();
            return end("complete");
          }
          if (tally) tally.bytes += data.length;
          controller.enqueue(data);
        } else {
          if (chunkLeft === 0) {
            const size = parseChunkSize(await conn.readLine());
            if (size < 0) throw new ProtocolError("malformed chunk size");
            if (size === 0) {
              // Trailers are dropped (RFC 9110 6.5.1 lets a proxy discard them).
              for (let n = 0; (await conn.readLine()) !== ""; n++) {
                if (n === MAX_TRAILERS) throw new ProtocolError("too many trailer fields");
              }
              controller.close();
              return end("complete");
            }
            chunkLeft = size;
          }
          const data = await conn.readSome(Math.min(chunkLeft, CHUNK_BYTES));
          if (data === null) throw new ConnectionClosed("closed inside a chunk", false);
          chunkLeft -= data.length;
          if (chunkLeft === 0 && (await conn.readLine()) !== "") {
            throw new ProtocolError("chunk not followed by CRLF");
          }
          if (tally) tally.bytes += data.length;
          controller.enqueue(data);
        }
      } catch (e) {
        controller.error(e);
        end("reset", e as Error);
      }
    },
    cancel() {
      end("cancelled");
    },
  }, { highWaterMark: 0 });
}
