/**
 * The `tls` section: terminating TLS on a listener of its own, with HTTP/2 offered by ALPN.
 *
 * The certificate and key are file paths; their contents are read when the proxy starts and on
 * every reload (a certificate rotation is a reload), not here: parsing stays a pure function of
 * the text, and a file that changed is read where it is used.
 *
 * @module
 */

import type { Node } from "yaml";
import { readListen } from "./fields.ts";
import type { Reader } from "./reader.ts";
import type { TlsCertFiles, TlsConfig } from "./types.ts";

const TLS_KEYS = ["listen", "cert", "key", "certificates", "http2", "redirect_http"] as const;

/** Read `tls`; absent means no TLS listener. */
export function readTls(r: Reader, node: Node | undefined): TlsConfig | null | undefined {
  if (node === undefined) return null;
  const m = r.map(node, "tls", TLS_KEYS);
  if (!m) return undefined;
  const listen = m.has("listen")
    ? readListen(r, m.get("listen"), "tls.listen")
    : { hostname: "0.0.0.0", port: 8443 };
  const pair = readPair(r, node, m, "tls");
  const http2 = m.has("http2") ? r.boolean(m.get("http2"), "tls.http2") : true;
  const redirectHttp = m.has("redirect_http")
    ? r.boolean(m.get("redirect_http"), "tls.redirect_http")
    : false;
  const certificates = m.has("certificates") ? readCertificates(r, m.get("certificates")) : [];
  if (!listen || !pair || !certificates || http2 === undefined || redirectHttp === undefined) {
    return undefined;
  }
  return { listen, ...pair, certificates, http2, redirectHttp };
}

/** `tls.certificates`: further pairs, each chosen by the names its certificate is issued for. */
function readCertificates(r: Reader, node: Node | undefined): TlsCertFiles[] | undefined {
  const items = r.seq(node, "tls.certificates");
  if (!items) return undefined;
  const out: TlsCertFiles[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const at = `tls.certificates[${i}]`;
    const m = r.map(item, at, ["cert", "key"]);
    const pair = m && readPair(r, item, m, at);
    if (pair) out.push(pair);
    else ok = false;
  });
  return ok ? out : undefined;
}

/** The required `cert` and `key` paths of the map `m` at `at`. */
function readPair(r: Reader, node: Node, m: Map<string, Node>, at: string): TlsCertFiles | undefined {
  for (const key of ["cert", "key"] as const) {
    if (m.has(key)) continue;
    const what = key === "cert" ? "certificate chain" : "private key";
    r.fail(r.nodeOf(node), `${at}.${key}`, `is required: the path of the PEM ${what}`);
  }
  const certFile = m.has("cert") ? readPath(r, m.get("cert"), `${at}.cert`) : undefined;
  const keyFile = m.has("key") ? readPath(r, m.get("key"), `${at}.key`) : undefined;
  return certFile && keyFile ? { certFile, keyFile } : undefined;
}

function readPath(r: Reader, node: Node | undefined, path: string): string | undefined {
  const text = r.string(node, path);
  if (text === undefined) return undefined;
  if (text.trim() === "") {
    r.fail(r.nodeOf(node), path, "must be a file path, got an empty string");
    return undefined;
  }
  return text;
}
