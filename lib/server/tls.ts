/**
 * The TLS side of the server: reading the certificate and key the config names, opening the TLS
 * listener with its HTTP/2 bridge, rotating the certificate on reload, and the plain listener's
 * redirect to https.
 *
 * @module
 */

import type { Logger } from "../base/mod.ts";
import type { Config, TlsConfig } from "../config/mod.ts";
import {
  certificateNames,
  type ConnectionOptions,
  createConnections,
  type Http1Handler,
  PairLoadError,
  serveTls,
  type SniCert,
  textResponse,
  type TlsServer,
} from "../listener/mod.ts";
import { type Metrics, protocolLabel } from "../metrics/mod.ts";
import { type AccessSink, logged } from "../proxy/mod.ts";
import { explainListen, freePort, isBindError, ListenError, type Share, unexpected } from "./listen.ts";

/** The certificates as read from their files: the default pair, and those chosen by SNI. */
export interface TlsPair {
  readonly cert: string;
  readonly key: string;
  /** `tls.certificates`, each with the DNS names its certificate is issued for. */
  readonly sni: readonly SniCert[];
}

/**
 * Read the files `tls.cert`, `tls.key` and `tls.certificates` name.
 *
 * @returns the pairs, or one error line naming the key and the file
 */
export async function readTlsPair(tls: TlsConfig): Promise<TlsPair | string> {
  const read = async (key: string, path: string) => {
    try {
      const text = await Deno.readTextFile(path);
      if (!text.includes("-----BEGIN ")) return `tls.${key}: ${path} is not PEM (no -----BEGIN line)`;
      return { text };
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).message;
      return `tls.${key}: cannot read ${path}: ${why}`;
    }
  };
  const cert = await read("cert", tls.certFile);
  const key = await read("key", tls.keyFile);
  if (typeof cert === "string") return cert;
  if (typeof key === "string") return key;
  const sni: SniCert[] = [];
  for (const [i, files] of tls.certificates.entries()) {
    const at = `certificates[${i}]`;
    const c = await read(`${at}.cert`, files.certFile);
    const k = await read(`${at}.key`, files.keyFile);
    if (typeof c === "string") return c;
    if (typeof k === "string") return k;
    let names: string[];
    try {
      names = certificateNames(c.text);
    } catch (e) {
      return `tls.${at}.cert: ${files.certFile} holds no certificate that parses: ${(e as Error).message}`;
    }
    if (!names.length) {
      return `tls.${at}.cert: ${files.certFile} names no DNS name (subjectAltName or CN) to choose it by`;
    }
    sni.push({ cert: c.text, key: k.text, names });
  }
  return { cert: cert.text, key: key.text, sni };
}

/** Whether two reads of the files found the same certificates. */
function samePairs(a: TlsPair, b: TlsPair): boolean {
  return a.cert === b.cert && a.key === b.key && a.sni.length === b.sni.length &&
    a.sni.every((c, i) => c.cert === b.sni[i].cert && c.key === b.sni[i].key);
}

/** What the TLS listener needs from the running proxy. */
export interface TlsDeps {
  readonly current: () => Config;
  readonly handler: Http1Handler;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now: () => number;
  readonly onReject?: ConnectionOptions["onReject"];
}

/** The TLS listener and the pair it serves now. */
export interface TlsListener {
  readonly server: TlsServer;
  /** The certificate and key new connections get. */
  readonly served: TlsPair;
  /**
   * Re-read the files of `next.tls` and serve new connections with them when they changed.
   *
   * @returns an error line (the running certificate stays), or undefined
   */
  rotate(next: TlsConfig): Promise<string | undefined>;
  /** Serve new connections with `pair` (read elsewhere: a worker takes the owner's). */
  use(pair: TlsPair, next: TlsConfig): Promise<string | undefined>;
}

/** How {@linkcode listenTls} opens its socket. */
export interface TlsListenOptions {
  /** The certificate to serve instead of reading the files (a worker takes the owner's). */
  readonly pair?: TlsPair;
  /** Share the address with other isolates (`workers` > 1; see `listenPublic`). */
  readonly share?: Share;
}

/**
 * Open the TLS listener of `tls`.
 *
 * @throws {ListenError} when the files cannot be read, the pair does not load, or the address is taken
 */
export async function listenTls(
  tls: TlsConfig,
  deps: TlsDeps,
  opening: TlsListenOptions = {},
): Promise<TlsListener> {
  const pair = opening.pair ?? await readTlsPair(tls);
  if (typeof pair === "string") throw new ListenError(pair);
  const { current, metrics, log } = deps;
  const report = unexpected(log);
  const conns = createConnections({
    headerTimeoutMs: () => current().timeouts.clientHeaderMs,
    idleTimeoutMs: () => current().timeouts.clientIdleMs,
    tunnelIdleMs: () => current().timeouts.tunnelIdleMs,
    now: deps.now,
    onReject: deps.onReject,
    onError: (e) => (report(e), textResponse(500, "Internal Server Error")),
  }, deps.handler);
  const options = {
    onError: report,
    hostname: tls.listen.hostname,
    port: opening.share === "open" ? freePort("tls.listen", tls.listen) : tls.listen.port,
    reusePort: opening.share !== undefined,
    http2: tls.http2,
    handshakeTimeoutMs: () => current().timeouts.tlsHandshakeMs,
    onHandshakeFailure: (reason: string) => metrics.tlsHandshakeFailures.inc({ reason }),
  };
  let served = pair;
  let server: TlsServer;
  try {
    server = serveTls({ ...options, ...pair }, conns, deps.handler);
  } catch (e) {
    if (isBindError(e)) throw explainListen("tls.listen", tls.listen, e as Error);
    throw new ListenError(loadError(tls, e as Error));
  }
  const use = async (fresh: TlsPair, next: TlsConfig) => {
    if (samePairs(fresh, served)) return undefined;
    try {
      await server.rotate(fresh.cert, fresh.key, fresh.sni);
    } catch (e) {
      return loadError(next, e as Error);
    }
    served = fresh;
    log("info", "tls certificate rotated", { cert: next.certFile });
    return undefined;
  };
  return {
    server,
    get served() {
      return served;
    },
    async rotate(next) {
      const fresh = await readTlsPair(next);
      return typeof fresh === "string" ? fresh : await use(fresh, next);
    },
    use,
  };
}

/** The one-line error for pairs that do not load, naming the `tls.certificates` entry that failed. */
function loadError(tls: TlsConfig, e: Error): string {
  const i = e instanceof PairLoadError ? e.sniIndex : undefined;
  const files = i === undefined ? tls : tls.certificates[i];
  const at = i === undefined ? "tls" : `tls.certificates[${i}]`;
  return `${at}: ${files.certFile} and ${files.keyFile} do not load as a pair: ${e.message}`;
}

/**
 * The plain listener's answer with `tls.redirect_http`: 308 (method and body kept, RFC 9110
 * section 15.4.9) to the same host and target on the TLS port. ACME HTTP-01 challenges
 * (`/.well-known/acme-challenge/`) are not redirected: a certificate authority asks for them over
 * plain HTTP.
 */
export function redirectToHttps(
  handler: Http1Handler,
  tls: () => TlsConfig | null,
  metrics: Metrics,
  log?: { readonly access: AccessSink; readonly now: () => number },
): Http1Handler {
  return (req) => {
    const t = tls();
    if (!t?.redirectHttp || req.target.startsWith("/.well-known/acme-challenge/")) return handler(req);
    metrics.countUnrouted(req.method, 308, protocolLabel(req.version));
    const host = (req.headers.get("host") ?? "").replace(/:\d+$/, "") || "localhost";
    const port = t.listen.port === 443 ? "" : `:${t.listen.port}`;
    const target = req.target.startsWith("/") ? req.target : "/";
    const location = `https://${host}${port}${target}`;
    const res = textResponse(308, `Permanent Redirect: ${location}`, ["location", location]);
    if (!log?.access.enabled) return res;
    return logged(log.access, log.now, req, { start: log.now(), attempts: 0 }, undefined, res);
  };
}
