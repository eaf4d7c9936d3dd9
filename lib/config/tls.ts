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
import type { TlsConfig } from "./types.ts";

const TLS_KEYS = ["listen", "cert", "key", "http2", "redirect_http"] as const;

/** Read `tls`; absent means no TLS listener. */
export function readTls(r: Reader, node: Node | undefined): TlsConfig | null | undefined {
  if (node === undefined) return null;
  const m = r.map(node, "tls", TLS_KEYS);
  if (!m) return undefined;
  let ok = true;
  for (const key of ["cert", "key"] as const) {
    if (!m.has(key)) {
      r.fail(
        r.nodeOf(node),
        `tls.${key}`,
        `is required: the path of the PEM ${key === "cert" ? "certificate chain" : "private key"}`,
      );
      ok = false;
    }
  }
  const listen = m.has("listen")
    ? readListen(r, m.get("listen"), "tls.listen")
    : { hostname: "0.0.0.0", port: 8443 };
  const certFile = m.has("cert") ? readPath(r, m.get("cert"), "tls.cert") : undefined;
  const keyFile = m.has("key") ? readPath(r, m.get("key"), "tls.key") : undefined;
  const http2 = m.has("http2") ? r.boolean(m.get("http2"), "tls.http2") : true;
  const redirectHttp = m.has("redirect_http")
    ? r.boolean(m.get("redirect_http"), "tls.redirect_http")
    : false;
  if (!ok || !listen || !certFile || !keyFile || http2 === undefined || redirectHttp === undefined) {
    return undefined;
  }
  return { listen, certFile, keyFile, http2, redirectHttp };
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
