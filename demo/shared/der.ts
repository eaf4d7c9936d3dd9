/**
 * A DER encoder (ITU-T X.690) with just the types an X.509 certificate needs: enough to write a
 * self-signed certificate without a dependency, and small enough to read in one sitting.
 *
 * Every function returns one complete TLV (tag, length, value) as bytes; constructed values take
 * the already-encoded TLVs they contain. Nothing decodes: the certificate's tests read it back
 * with openssl and with a TLS client.
 *
 * @module
 */

/** Bytes on an `ArrayBuffer` of their own, as WebCrypto takes them. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** Tag numbers of the universal types used here (X.690 section 8, X.680 table 1). */
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Concatenate byte arrays. */
export function concat(...parts: readonly Uint8Array[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * The definite length octets of X.690 8.1.3: one byte below 128, else `0x80 | n` followed by the
 * length in `n` big-endian bytes.
 */
function lengthOctets(length: number): Bytes {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/**
 * One TLV: `tag`, the length of the contents, the contents.
 *
 * @param tag The identifier octet (class, constructed bit and number below 31).
 * @param contents The value's bytes; several are concatenated (a constructed value's members).
 * @returns The encoding.
 *
 * @example Usage
 * ```ts
 * import { tlv } from "./der.ts";
 * tlv(0x04, Uint8Array.of(1, 2)); // Uint8Array [0x04, 0x02, 0x01, 0x02]
 * ```
 */
export function tlv(tag: number, ...contents: readonly Uint8Array[]): Bytes {
  const value = concat(...contents);
  return concat(Uint8Array.of(tag), lengthOctets(value.byteLength), value);
}

/** A SEQUENCE of the encoded `items`, in order. */
export const sequence = (...items: readonly Uint8Array[]): Bytes => tlv(TAG.sequence, ...items);

/** A SET of the encoded `items`; callers pass one item (a RelativeDistinguishedName), so no sorting. */
export const set = (...items: readonly Uint8Array[]): Bytes => tlv(TAG.set, ...items);

/** A BOOLEAN; DER writes true as `0xff`. */
export const boolean = (value: boolean): Bytes => tlv(TAG.boolean, Uint8Array.of(value ? 0xff : 0));

/** An OCTET STRING holding `bytes`. */
export const octetString = (bytes: Uint8Array): Bytes => tlv(TAG.octetString, bytes);

/** A BIT STRING of whole bytes (no unused bits): a signature or a public key. */
export const bitString = (bytes: Uint8Array): Bytes => tlv(TAG.bitString, Uint8Array.of(0), bytes);

/** A UTF8String. */
export const utf8String = (text: string): Bytes => tlv(TAG.utf8String, new TextEncoder().encode(text));

/**
 * A context-specific tag `[n]`: EXPLICIT (constructed, wrapping a whole TLV) when `constructed`,
 * else IMPLICIT on a primitive value (its bytes under the new tag).
 *
 * @param n Tag number, 0..30.
 * @param contents The wrapped TLV (explicit) or the primitive value's bytes (implicit).
 * @param constructed Whether the tag is constructed.
 * @returns The encoding.
 * @throws {RangeError} When `n` needs the long tag form.
 */
export function context(n: number, contents: Uint8Array, constructed: boolean): Bytes {
  if (!Number.isInteger(n) || n < 0 || n > 30) {
    throw new RangeError(`Cannot encode context tag [${n}]: expected an integer in [0, 30]`);
  }
  return tlv(0x80 | (constructed ? 0x20 : 0) | n, contents);
}

/**
 * A non-negative INTEGER from its big-endian magnitude: leading zero bytes dropped (DER is
 * minimal), one `0x00` put back when the top bit is set (else it would read as negative).
 *
 * @param magnitude Big-endian unsigned bytes, such as a serial number or an ECDSA `r`.
 * @returns The encoding.
 *
 * @example Usage
 * ```ts
 * import { unsignedInteger } from "./der.ts";
 * unsignedInteger(Uint8Array.of(0, 0, 0x80)); // Uint8Array [0x02, 0x02, 0x00, 0x80]
 * ```
 */
export function unsignedInteger(magnitude: Uint8Array): Bytes {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const bytes = magnitude.length === 0 ? Uint8Array.of(0) : magnitude.subarray(start);
  return tlv(TAG.integer, bytes[0] & 0x80 ? concat(Uint8Array.of(0), bytes) : bytes);
}

/** A small non-negative INTEGER, such as a certificate's version. */
export function smallInteger(value: number): Bytes {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Cannot encode ${value} as a small integer: expected a non-negative safe integer`);
  }
  const bytes: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return unsignedInteger(Uint8Array.from(bytes));
}

/**
 * An OBJECT IDENTIFIER from its dotted form: the first two arcs in one byte (40 × a + b), each
 * later arc in base 128, high bit set on every byte but its last.
 *
 * @param dotted Such as `"1.2.840.10045.2.1"`.
 * @returns The encoding.
 * @throws {SyntaxError} When `dotted` is not an OID.
 *
 * @example Usage
 * ```ts
 * import { oid } from "./der.ts";
 * oid("2.5.4.3"); // Uint8Array [0x06, 0x03, 0x55, 0x04, 0x03] (commonName)
 * ```
 */
export function oid(dotted: string): Bytes {
  const arcs = dotted.split(".").map((a) => /^(0|[1-9]\d*)$/.test(a) ? Number(a) : NaN);
  if (
    arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a)) || arcs[0] > 2 ||
    (arcs[0] < 2 && arcs[1] > 39)
  ) {
    throw new SyntaxError(`Cannot encode "${dotted}" as an OID: expected arcs like 1.2.840.10045.2.1`);
  }
  const bytes: number[] = [];
  for (const arc of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const base128: number[] = [arc % 128];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) base128.unshift(0x80 | (n % 128));
    bytes.push(...base128);
  }
  return tlv(TAG.oid, Uint8Array.from(bytes));
}

/**
 * An IA5String (ASCII), the type of a subjectAltName dNSName.
 *
 * @throws {RangeError} When `text` has a character outside ASCII.
 */
export function ia5Bytes(text: string): Bytes {
  if ([...text].some((c) => c.charCodeAt(0) > 0x7f)) {
    throw new RangeError(`Cannot encode "${text}" as IA5String: expected ASCII only`);
  }
  return new TextEncoder().encode(text);
}

/** An IA5String TLV of `text` (see {@linkcode ia5Bytes}). */
export const ia5String = (text: string): Bytes => tlv(TAG.ia5String, ia5Bytes(text));

/**
 * A certificate time (RFC 5280 section 4.1.2.5): UTCTime `YYMMDDHHMMSSZ` for the years 1950 to
 * 2049, GeneralizedTime `YYYYMMDDHHMMSSZ` otherwise; whole seconds, always UTC.
 *
 * @param date The instant; milliseconds are dropped.
 * @returns The encoding.
 * @throws {RangeError} When `date` is invalid or outside the years 0 to 9999.
 */
export function time(date: Date): Bytes {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 0 || year > 9999) {
    throw new RangeError(
      `Cannot encode ${date} as a certificate time: expected a date in the years 0 to 9999`,
    );
  }
  const two = (n: number) => String(n).padStart(2, "0");
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}` +
    `${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  const utc = year >= 1950 && year < 2050;
  const text = utc ? `${two(year % 100)}${rest}` : `${String(year).padStart(4, "0")}${rest}`;
  return tlv(utc ? TAG.utcTime : TAG.generalizedTime, new TextEncoder().encode(text));
}

/**
 * PEM text (RFC 7468): the label's BEGIN line, base64 in lines of 64, the END line.
 *
 * @param label Such as `CERTIFICATE` or `PRIVATE KEY`.
 * @param der The DER bytes.
 * @returns The PEM text, ending in a newline.
 */
export function pem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
