/**
 * `backends[].tls`: the CA that signs an `https://` backend's certificate and the name it is
 * issued for, when those are not the public roots and the URL's host.
 *
 * The CA file is read, and every certificate in it parsed, while the config is read, so that
 * `--check`, start and every reload refuse a missing, unreadable or non-PEM file with one line
 * naming the file and the field (a reload then keeps the running config), instead of every
 * connection failing later. A CA whose file content changes is a changed backend on the next
 * reload.
 *
 * @module
 */

import { X509Certificate } from "node:crypto";
import type { Node } from "yaml";
import type { Reader } from "./reader.ts";
import type { BackendTlsConfig } from "./types.ts";

const TLS_KEYS = ["ca", "server_name"] as const;

/** One DNS label: letters, digits and inner hyphens (RFC 1123). */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** One PEM block, of any type. */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Read `backends[i].tls` of a backend whose origin is `url` (undefined when the URL was bad).
 *
 * @returns the settings, `null` for an empty mapping (no settings), undefined after an error
 */
export function readBackendTls(
  r: Reader,
  node: Node | undefined,
  path: string,
  url: string | undefined,
): BackendTlsConfig | null | undefined {
  const m = r.map(node, path, TLS_KEYS);
  if (!m) return undefined;
  let ok = true;
  if (url !== undefined && !url.startsWith("https:")) {
    r.fail(
      r.nodeOf(node),
      path,
      `applies to https:// backends only (a plain http:// connection has no certificate to check), got url "${url}"`,
    );
    ok = false;
  }
  const serverName = m.has("server_name")
    ? readServerName(r, m.get("server_name"), `${path}.server_name`)
    : null;
  const ca = m.has("ca") ? readCa(r, m.get("ca"), `${path}.ca`) : null;
  if (!ok || serverName === undefined || ca === undefined) return undefined;
  if (serverName === null && ca === null) return null;
  return {
    ...(ca === null ? {} : { ca: ca.file, caPem: ca.pem, caCount: ca.count }),
    ...(serverName === null ? {} : { serverName }),
  };
}

/** `tls.server_name`: a DNS name (SNI carries no IP addresses, RFC 6066 section 3). */
function readServerName(r: Reader, node: Node | undefined, path: string): string | undefined {
  const text = r.string(node, path);
  if (text === undefined) return undefined;
  const name = text.toLowerCase();
  const labels = name.split(".");
  const why = name === ""
    ? "empty"
    : name.length > 253
    ? "longer than 253 characters"
    : /^[^:]+:\d+$/.test(name)
    ? "no port: the port is the URL's"
    : /^[0-9.]+$/.test(name) || /^\[?[0-9a-f:.]*:[0-9a-f:.]*\]?$/.test(name)
    ? "an IP address: the certificate is then checked for the URL's address, so leave server_name out"
    : !labels.every((l) => LABEL.test(l))
    ? "letters, digits, hyphens and dots only, no empty label"
    : /^[0-9]+$/.test(labels[labels.length - 1])
    ? "the last label cannot be all digits"
    : undefined;
  if (why) {
    r.fail(r.nodeOf(node), path, `must be a DNS name like backend.internal (${why}), got "${text}"`);
    return undefined;
  }
  return name;
}

/** `tls.ca`: a PEM file of one or more CA certificates. */
function readCa(
  r: Reader,
  node: Node | undefined,
  path: string,
): { file: string; pem: string; count: number } | undefined {
  const given = r.string(node, path);
  if (given === undefined) return undefined;
  if (given === "") {
    r.fail(r.nodeOf(node), path, `must be the path of a PEM file of CA certificates, got ""`);
    return undefined;
  }
  const read = r.readFile(node, path, given);
  if (!read) return undefined;
  const { file, bytes } = read;
  const fail = (why: string) => void r.fail(r.nodeOf(node), path, `${JSON.stringify(file)} ${why}`);
  let pem: string;
  try {
    pem = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fail(
      "is not a PEM file (binary content; a DER certificate needs converting: openssl x509 -in FILE -out FILE.pem)",
    );
  }
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  const certs = blocks.filter((b) => b[1] === "CERTIFICATE");
  if (certs.length === 0) {
    const found = [...new Set(blocks.map((b) => b[1]))];
    return fail(
      `is not a PEM file of CA certificates: no "-----BEGIN CERTIFICATE-----" block${
        found.length ? ` (found ${found.join(", ")})` : ""
      }`,
    );
  }
  for (const [i, block] of certs.entries()) {
    try {
      new X509Certificate(block[0]);
    } catch (e) {
      return fail(`certificate ${i + 1} of ${certs.length} cannot be parsed: ${(e as Error).message}`);
    }
  }
  // Only the certificates: a bundle that also holds a key keeps it out of the TLS stack.
  return { file, pem: certs.map((b) => b[0]).join("\n") + "\n", count: certs.length };
}
