/**
 * Reading a TLS ClientHello (RFC 8446 section 4.1.2) without decrypting anything: the server
 * name (SNI, RFC 6066) and the protocols offered by ALPN (RFC 7301), which the TLS listener routes
 * a connection by before any TLS library sees it.
 *
 * Only the first record is read: a ClientHello fits in one record (at most 16 KiB) in every
 * client this proxy meets.
 *
 * @module
 */

/** What a ClientHello asks for. */
export interface ClientHello {
  /** The server name, lower case; "" when none was sent. */
  readonly serverName: string;
  /** ALPN protocols in the client's order; empty when the extension was absent. */
  readonly alpn: readonly string[];
}

/** Bytes a TLS record header announces, or why the bytes are not a ClientHello record. */
export type HelloLength = number | "not tls";

/**
 * The length of the first record (its 5-byte header included) once 5 bytes are in, or "not tls"
 * when they cannot start a handshake record.
 */
export function helloRecordLength(buf: Uint8Array): HelloLength {
  // ContentType handshake (22), legacy version 3.x, then a length of at most 2^14 + 2048.
  if (buf[0] !== 22 || buf[1] !== 3) return "not tls";
  const length = (buf[3] << 8) | buf[4];
  return length === 0 || length > 18_432 ? "not tls" : 5 + length;
}

/**
 * Parse the ClientHello in a complete first record.
 *
 * @returns the server name and ALPN list, or undefined when the record is not a ClientHello
 */
export function parseClientHello(record: Uint8Array): ClientHello | undefined {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  let at = 5;
  const need = (n: number) => at + n <= record.length;
  if (!need(4) || record[at] !== 1) return undefined; // HandshakeType client_hello
  at += 4 + 2 + 32; // handshake header, legacy_version, random
  if (!need(1)) return undefined;
  at += 1 + record[at]; // legacy_session_id
  if (!need(2)) return undefined;
  at += 2 + view.getUint16(at); // cipher_suites
  if (!need(1)) return undefined;
  at += 1 + record[at]; // legacy_compression_methods
  let serverName = "";
  const alpn: string[] = [];
  if (!need(2)) return { serverName, alpn }; // no extensions at all
  const end = Math.min(record.length, at + 2 + view.getUint16(at));
  at += 2;
  while (at + 4 <= end) {
    const type = view.getUint16(at);
    const size = view.getUint16(at + 2);
    const body = at + 4;
    at = body + size;
    if (at > end) return undefined;
    if (type === 0 && size >= 5 && record[body + 2] === 0) {
      const len = view.getUint16(body + 3);
      serverName = String.fromCharCode(...record.subarray(body + 5, body + 5 + len)).toLowerCase();
    } else if (type === 16 && size >= 2) {
      for (let p = body + 2; p < at;) {
        const len = record[p];
        alpn.push(String.fromCharCode(...record.subarray(p + 1, p + 1 + len)));
        p += 1 + len;
      }
    }
  }
  return { serverName, alpn };
}

/**
 * Follow the TLS records a client sends, from its first byte, and tell when its handshake is over
 * on its side: its first application-data record (content type 23, RFC 8446 section 5.1; RFC
 * 5246 section 6.2.1). A TLS 1.3 client's Finished is one, and so is an HTTP/2 client's preface
 * right after a TLS 1.2 handshake; a client still sending handshake records, or none, is not done.
 *
 * @returns a function to show each chunk in order; true once such a record's header has passed
 */
export function clientHandshakeWatch(): (chunk: Uint8Array) => boolean {
  let header = 0; // header bytes of the current record seen so far (a header is 5 bytes)
  let type = 0;
  let length = 0;
  let skip = 0; // body bytes of the current record still to pass
  return (chunk) => {
    for (let i = 0; i < chunk.length;) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n, i += n;
        continue;
      }
      const byte = chunk[i++];
      if (header === 0) type = byte;
      else if (header === 3) length = byte << 8;
      else if (header === 4) length |= byte;
      if (++header === 5) {
        if (type === 23) return true;
        header = 0, skip = length;
      }
    }
    return false;
  };
}
