/**
 * Writing request heads to backends.
 *
 * @module
 */

/**
 * Serialize a request head from flat header pairs as a string of byte-valued chars (values are
 * ByteStrings, validated by the server that parsed them); `extra` is more header lines, each
 * ending in CRLF. `BufferedConn.writeLatin1` turns it into bytes.
 */
export function requestHead(method: string, target: string, headers: readonly string[], extra = ""): string {
  let s = `${method} ${target} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${s}${extra}\r\n`;
}
