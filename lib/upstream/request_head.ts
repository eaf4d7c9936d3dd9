/**
 * Writing request heads to backends.
 *
 * @module
 */

import type { BufferedConn } from "../http1/mod.ts";

/**
 * Compose a request head from flat header pairs in `conn`'s write buffer (values are ByteStrings,
 * validated by the server that parsed them); `extra` is more header lines, each ending in CRLF.
 * `conn.sendHead()` writes it.
 */
export function putRequestHead(
  conn: BufferedConn,
  method: string,
  target: string,
  headers: readonly string[],
  extra = "",
): void {
  conn.beginHead();
  conn.putHead(method);
  conn.putHead(" ");
  conn.putHead(target);
  conn.putHead(" HTTP/1.1\r\n");
  for (let i = 0; i < headers.length; i += 2) {
    conn.putHead(headers[i]);
    conn.putHead(": ");
    conn.putHead(headers[i + 1]);
    conn.putHead("\r\n");
  }
  conn.putHead(extra);
  conn.putHead("\r\n");
}
