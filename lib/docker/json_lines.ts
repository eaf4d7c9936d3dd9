/**
 * Read a stream of newline-delimited JSON documents, as the Docker Engine sends for
 * `/containers/{id}/stats?stream=true` and `/events`.
 *
 * Chunk boundaries do not follow line boundaries: a document can arrive split across chunks,
 * and one chunk can carry several documents, so bytes are buffered up to each newline.
 *
 * @module
 */

import type { NodeReadable } from "./api.ts";

/**
 * Call `onValue` with each JSON document on `stream`, in order.
 *
 * @returns A promise that resolves when the stream ends and rejects on a stream error or on a
 *   line that is not JSON (the stream is destroyed then, since the framing can no longer be trusted).
 * @example Follow the Docker events stream
 * ```ts
 * const stream = await docker.getEvents({ filters: { type: ["container"] } });
 * await followJsonLines(stream, (event) => console.log(event));
 * ```
 */
export function followJsonLines(stream: NodeReadable, onValue: (value: unknown) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder();
    let pending = "";
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve();
    };
    stream.on("data", (chunk) => {
      if (settled) return;
      pending += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line === "") continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          stream.destroy();
          settle(
            new SyntaxError(`Cannot parse a JSON line from the Docker stream: got "${line.slice(0, 80)}"`),
          );
          return;
        }
        onValue(value);
      }
    });
    stream.on("error", (error) => settle(error));
    stream.on("end", () => settle());
    stream.on("close", () => settle());
  });
}
