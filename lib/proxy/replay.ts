/**
 * Request bodies that can be sent more than once.
 *
 * A retry must send the same body again, but a request body is a stream that can be read once.
 * Bodies up to `retries.max_body` are read into memory first so they can be replayed; a larger
 * body is streamed through as usual and its request is never retried, because part of it has
 * already gone to the first backend.
 *
 * @module
 */

/**
 * A body ready to send: bytes or none (replayable when within the limit), or a one-shot stream.
 */
export interface PreparedBody {
  readonly replayable: boolean;
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null;
}

/**
 * Read up to `maxBytes` of `body`. When it ends within the limit the result is replayable;
 * otherwise the bytes read so far and the rest of the stream are stitched back into one stream.
 * A body that is bytes already is replayable when within the limit.
 *
 * @example
 * ```ts
 * import { prepareBody } from "./replay.ts";
 * const p = await prepareBody(new Blob(["hello"]).stream(), 1024);
 * p.replayable; // true
 * ```
 */
export async function prepareBody(
  body: Uint8Array | ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<PreparedBody> {
  if (body === null) return { replayable: true, body: null };
  if (body instanceof Uint8Array) return { replayable: body.length <= maxBytes, body };
  if (maxBytes <= 0) return { replayable: false, body };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size <= maxBytes) {
    const { done, value } = await reader.read();
    if (done) return { replayable: true, body: concat(chunks, size) };
    chunks.push(value);
    size += value.byteLength;
  }
  // Too large to keep: replay what was read, then pass the rest through.
  const stream = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const head = chunks.shift();
      if (head) return controller.enqueue(head);
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { replayable: false, body: stream };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
