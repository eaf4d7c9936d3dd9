/**
 * A self-signed X.509 certificate for local TLS, made with WebCrypto alone: no openssl, no
 * dependency, so `deno task demo` serves HTTPS on a machine that has nothing but Deno.
 *
 * The key is ECDSA P-256, the certificate v3 with subjectAltName (TLS clients match names there
 * only, RFC 6125), basicConstraints `CA:FALSE` (rustls/webpki refuses a CA certificate as a
 * server's own) and extKeyUsage serverAuth, signed with ecdsa-with-SHA256 by its own key. A
 * client that trusts the certificate file itself (`curl --cacert`, Deno's `caCerts`, node's
 * `ca`) verifies it like any other.
 *
 * @module
 */

import { isIpv4, parseIp } from "../../lib/net/mod.ts";
import {
  bitString,
  boolean,
  type Bytes,
  context,
  ia5Bytes,
  octetString,
  oid,
  pem,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from "./der.ts";

/** Object identifiers used below (RFC 5280, RFC 5758, RFC 5480). */
const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

/** A DNS name as subjectAltName holds it: LDH labels, optionally a leading `*.`. */
const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** What the certificate names and how long it lasts. */
export interface SelfSignedCertOptions {
  /**
   * DNS names in subjectAltName.
   *
   * @default {["localhost"]}
   */
  readonly dnsNames?: readonly string[];
  /**
   * IP addresses in subjectAltName, IPv4 or IPv6.
   *
   * @default {["127.0.0.1", "::1"]}
   */
  readonly ipAddresses?: readonly string[];
  /**
   * The subject's and issuer's common name (clients do not match it; it labels the certificate).
   *
   * @default the first DNS name, else the first IP address
   */
  readonly commonName?: string;
  /**
   * The issue time: the certificate is valid from an hour before it (a client clock slightly
   * behind still accepts it) until `validityMs` after it.
   *
   * @default {new Date()}
   */
  readonly now?: Date;
  /**
   * How long it stays valid after `now`, in milliseconds.
   *
   * @default {604_800_000} (7 days)
   */
  readonly validityMs?: number;
}

/** A certificate and its private key. */
export interface SelfSignedCert {
  /** The certificate as PEM (`-----BEGIN CERTIFICATE-----`). */
  readonly cert: string;
  /** The private key as unencrypted PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly key: string;
  /** The certificate's DER bytes. */
  readonly der: Uint8Array;
  /** Valid from. */
  readonly notBefore: Date;
  /** Valid until. */
  readonly notAfter: Date;
}

/** Seven days: longer than any demo run (its load stops after 24 h), short enough to be disposable. */
const DEFAULT_VALIDITY_MS = 7 * 24 * 3_600_000;

/** How far `notBefore` is set back from the issue time. */
const BACKDATE_MS = 3_600_000;

/**
 * Generate an ECDSA P-256 key and a certificate for it, signed by itself.
 *
 * @param options Names and validity; every field has a default.
 * @returns The PEM certificate and key, the DER and the validity.
 * @throws {TypeError} When a name is not a DNS name or an IP address, or there is no name at all.
 * @throws {RangeError} When `validityMs` is not a positive whole number of milliseconds.
 *
 * @example Usage
 * ```ts
 * import { createSelfSignedCert } from "./self_signed_cert.ts";
 * const { cert, key } = await createSelfSignedCert({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
 * const server = Deno.serve({ port: 0, hostname: "127.0.0.1", cert, key, onListen() {} }, () => new Response("hi"));
 * await server.shutdown();
 * ```
 */
export async function createSelfSignedCert(options: SelfSignedCertOptions = {}): Promise<SelfSignedCert> {
  const dnsNames = options.dnsNames ?? ["localhost"];
  const ipAddresses = options.ipAddresses ?? ["127.0.0.1", "::1"];
  const validityMs = options.validityMs ?? DEFAULT_VALIDITY_MS;
  if (!Number.isSafeInteger(validityMs) || validityMs <= 0) {
    throw new RangeError(`Cannot use validityMs: expected a positive integer, got ${validityMs}`);
  }
  const altNames = [
    ...dnsNames.map((name) => {
      if (!DNS_NAME.test(name)) throw new TypeError(`Cannot put "${name}" in a certificate: not a DNS name`);
      return context(2, ia5Bytes(name), false); // dNSName [2] IA5String
    }),
    ...ipAddresses.map((text) => context(7, ipBytes(text), false)), // iPAddress [7] OCTET STRING
  ];
  if (altNames.length === 0) {
    throw new TypeError("Cannot make a certificate without names: give dnsNames or ipAddresses");
  }
  const commonName = options.commonName ?? dnsNames[0] ?? ipAddresses[0];
  const now = options.now ?? new Date();
  const notBefore = new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000);
  const notAfter = new Date(Math.floor((now.getTime() + validityMs) / 1000) * 1000);

  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const name = sequence(
    set(sequence(oid(OID.organization), utf8String("lb demo"))),
    set(sequence(oid(OID.commonName), utf8String(commonName))),
  );
  const signatureAlgorithm = sequence(oid(OID.ecdsaWithSha256)); // parameters absent (RFC 5758 3.2)
  const tbs = sequence(
    context(0, smallInteger(2), true), // version v3
    unsignedInteger(serialNumber()),
    signatureAlgorithm,
    name, // issuer: itself
    sequence(time(notBefore), time(notAfter)),
    name, // subject
    spki, // SubjectPublicKeyInfo, exactly as WebCrypto exports it
    context(
      3,
      sequence(
        extension(OID.basicConstraints, true, sequence()), // cA FALSE, the default, is left out
        extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, sequence(...altNames)),
      ),
      true,
    ),
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, tbs),
  );
  const der = sequence(tbs, signatureAlgorithm, bitString(ecdsaSignatureDer(signature)));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { cert: pem("CERTIFICATE", der), key: pem("PRIVATE KEY", pkcs8), der, notBefore, notAfter };
}

/**
 * WebCrypto's ECDSA signature (IEEE P1363: `r || s`, each as wide as the curve) as X.509 wants
 * it: `SEQUENCE { INTEGER r, INTEGER s }` (RFC 3279 section 2.2.3).
 *
 * @param p1363 The raw signature, an even number of bytes.
 * @returns The DER signature.
 * @throws {RangeError} When the length is odd or zero.
 */
export function ecdsaSignatureDer(p1363: Uint8Array): Bytes {
  if (p1363.length === 0 || p1363.length % 2 !== 0) {
    throw new RangeError(`Cannot read an ECDSA signature of ${p1363.length} bytes: expected r || s`);
  }
  const half = p1363.length / 2;
  return sequence(unsignedInteger(p1363.subarray(0, half)), unsignedInteger(p1363.subarray(half)));
}

/** `Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`. */
function extension(id: string, critical: boolean, value: Uint8Array): Bytes {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

/**
 * 16 random bytes whose first is 1..127: positive, 16 octets once encoded (at most 20 are
 * allowed, RFC 5280 4.1.2.2), and unpredictable as that section asks of a CA.
 */
function serialNumber(): Bytes {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] & 0x7f) || 1;
  return bytes;
}

/** The 4 (IPv4) or 16 (IPv6) bytes of an iPAddress entry. */
function ipBytes(text: string): Bytes {
  const address = parseIp(text);
  if (!address || text.includes("%")) {
    throw new TypeError(`Cannot put "${text}" in a certificate: not an IP address`);
  }
  // An address written in IPv6 form stays 16 bytes, even `::ffff:a.b.c.d` (which parseIp stores
  // as it stores IPv4).
  const groups = !text.includes(":") && isIpv4(address) ? address.subarray(6) : address;
  return Uint8Array.from([...groups].flatMap((g) => [g >> 8, g & 0xff]));
}
