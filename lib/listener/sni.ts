/**
 * Choosing a certificate by the server name a client asks for (SNI, RFC 6066 section 3).
 *
 * Deno's TLS servers take one certificate each and have no SNI callback, but the TLS listener
 * reads the ClientHello itself before any TLS library sees it (lib/listener/tls.ts), so it can
 * relay a connection to the terminator holding the right certificate. Which names a certificate
 * serves comes from the certificate, as in Traefik and Caddy: its subjectAltName DNS entries
 * (RFC 6125 section 6.4), or its subject CN when it has none.
 *
 * Matching, as browsers check a name (RFC 6125 section 6.4.3): an exact name wins over a
 * wildcard, a wildcard `*.example.com` covers exactly one more label (`a.example.com`, not
 * `example.com` or `a.b.example.com`), and among equals the first certificate listed wins. A name
 * nothing covers, and a client that sends none, gets the default certificate.
 *
 * @module
 */

import { X509Certificate } from "node:crypto";

/**
 * The DNS names a PEM certificate (the first of a chain) is issued for, lower case.
 *
 * @throws {Error} when the text holds no certificate that parses
 * @example
 * ```ts
 * certificateNames(pem); // ["api.example.com", "*.example.com"]
 * ```
 */
export function certificateNames(pem: string): string[] {
  const cert = new X509Certificate(pem);
  const names = (cert.subjectAltName ?? "")
    .split(/,\s*/)
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4).trim().toLowerCase())
    .filter((name) => name !== "");
  if (names.length) return names;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1]?.trim().toLowerCase();
  return cn && /^[a-z0-9*][a-z0-9.*-]*$/.test(cn) ? [cn] : [];
}

/**
 * A lookup from server name to the index of the certificate that serves it.
 *
 * @param names each certificate's names, in the order they were listed (index 0: the default)
 * @returns the index for a server name; 0 (the default) when none covers it
 * @example
 * ```ts
 * const pick = sniTable([["localhost"], ["a.test", "*.w.test"]]);
 * pick("x.w.test"); // 1
 * pick("other.test"); // 0
 * ```
 */
export function sniTable(names: readonly (readonly string[])[]): (serverName: string) => number {
  const exact = new Map<string, number>();
  const wildcard = new Map<string, number>();
  names.forEach((list, i) => {
    for (const name of list) {
      if (name.startsWith("*.")) {
        if (!wildcard.has(name.slice(2))) wildcard.set(name.slice(2), i);
      } else if (!exact.has(name)) exact.set(name, i);
    }
  });
  return (serverName) => {
    if (serverName === "") return 0;
    const name = serverName.endsWith(".") ? serverName.slice(0, -1) : serverName;
    const hit = exact.get(name);
    if (hit !== undefined) return hit;
    const dot = name.indexOf(".");
    return dot > 0 ? wildcard.get(name.slice(dot + 1)) ?? 0 : 0;
  };
}
