/**
 * The loopback terminators of the TLS listener: for each certificate, a `Deno.listenTls` for
 * HTTP/1.1 and (with `http2`) a `Deno.serve` for h2, and the table choosing a certificate by SNI
 * (lib/listener/sni.ts). A rotation opens a new {@linkcode CertSet} and retires the old one, whose
 * terminators close once the last connection relayed to them has ended.
 *
 * @module
 */

import type { Http1Handler } from "./connections.ts";
import { serveH2 } from "./h2.ts";
import { certificateNames, sniTable } from "./sni.ts";

/** A certificate chain and its private key, as PEM text. */
export interface PemCert {
  readonly cert: string;
  readonly key: string;
}

/** A certificate chosen by SNI, with the names it serves (lower case; `*.` for a wildcard). */
export interface SniCert extends PemCert {
  readonly names: readonly string[];
}

/** A certificate and key that do not load as a pair, and which pair of a set it was. */
export class PairLoadError extends Error {
  override name = "PairLoadError";
  /**
   * @param sniIndex the failed pair's index in the SNI list; undefined for the default pair
   */
  constructor(message: string, readonly sniIndex: number | undefined) {
    super(message);
  }
}

/** The loopback terminators for one certificate, and the relays using them. */
export interface Terminators {
  readonly h1: Deno.TlsListener;
  readonly h2: Deno.HttpServer<Deno.NetAddr> | undefined;
  /** Relays routed here and not ended; retired terminators close when the last one ends. */
  relays: number;
  retired: boolean;
}

/** The terminators of every certificate served at once, and the choice between them. */
export interface CertSet {
  /** Index 0 holds the default certificate, then those of `sni` in their order. */
  readonly all: readonly Terminators[];
  /** The terminators for the server name a ClientHello asked for ("" when none). */
  pick(serverName: string): Terminators;
}

/** What opening terminators needs from the listener. */
export interface TerminatorHooks {
  readonly http2: boolean;
  readonly handler: Http1Handler;
  /** Serve one accepted HTTP/1.1 terminator connection. */
  readonly serveH1: (conn: Deno.TlsConn) => void;
  /** The client behind a relay, by the relay's local port. */
  readonly clientOf: (relayPort: number) => Deno.NetAddr | undefined;
  readonly onError: (e: unknown) => void;
}

/**
 * Open terminators for the default pair and each SNI certificate.
 *
 * @throws {PairLoadError} when a pair does not load (none of the set stays open)
 */
export function openCertSet(first: PemCert, sni: readonly SniCert[], hooks: TerminatorHooks): CertSet {
  const all: Terminators[] = [];
  const pairs: readonly PemCert[] = [first, ...sni];
  pairs.forEach((pair, i) => {
    try {
      all.push(openTerminators(pair, hooks));
    } catch (e) {
      all.forEach(shutTerminators);
      throw new PairLoadError((e as Error).message, i === 0 ? undefined : i - 1);
    }
  });
  let defaultNames: string[] = [];
  try {
    defaultNames = certificateNames(first.cert);
  } catch { /* it loaded as a pair; names only refine the choice */ }
  const index = sniTable([defaultNames, ...sni.map((c) => c.names)]);
  return { all, pick: (serverName) => all[index(serverName)] };
}

function openTerminators(pair: PemCert, hooks: TerminatorHooks): Terminators {
  const { cert, key } = pair;
  const h1 = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key, alpnProtocols: ["http/1.1"] });
  let h2: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    h2 = hooks.http2 ? serveH2(pair, hooks.handler, hooks.clientOf, hooks.onError) : undefined;
  } catch (e) {
    h1.close();
    throw e;
  }
  void (async () => {
    try {
      for await (const conn of h1) hooks.serveH1(conn);
    } catch { /* closed by a rotation or shutdown */ }
  })();
  return { h1, h2, relays: 0, retired: false };
}

/**
 * Close terminators nobody is routed to any more.
 *
 * @returns the h2 terminator's graceful shutdown, when there is one
 */
export function shutTerminators(t: Terminators): Promise<void> | undefined {
  try {
    t.h1.close();
  } catch { /* closed already */ }
  return t.h2?.shutdown().catch(() => {});
}
