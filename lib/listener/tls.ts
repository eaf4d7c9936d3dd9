/**
 * The TLS listener. It accepts plain TCP, reads the client's ClientHello itself (within
 * `tls_handshake`), and relays the connection by ALPN to one of two loopback terminators that
 * hold the certificate: `Deno.serve` for `h2` (lib/listener/h2.ts), and `Deno.listenTls` for
 * HTTP/1.1, whose connections the proxy's own request loop serves (lib/listener/connections.ts:
 * the same header and idle timeouts as the plain listener, WebSocket tunnels over `wss://`).
 *
 * Why not `Deno.listenTls` on the public port: closing a Deno TLS connection whose handshake is
 * still pending does not close its socket (checked with Deno 2.9.6: the client saw no FIN 8 s
 * after the close), so a handshake timeout could not free a silent client's socket. Closing the
 * plain public connection always does, and it takes the loopback side down with it. The relay
 * also makes rotation gapless: a new certificate gets new loopback terminators and new
 * connections go to them, while the public port never closes and open connections keep theirs.
 *
 * Several certificates: Deno's terminators take one certificate each and have no SNI callback, so
 * each certificate gets terminators of its own and the relay picks them by the ClientHello's server
 * name (lib/listener/sni.ts, lib/listener/tls_terminators.ts).
 *
 * @module
 */

import { BufferedConn, tunnel } from "../http1/mod.ts";
import {
  clientHandshakeWatch,
  type ClientHello,
  helloRecordLength,
  parseClientHello,
} from "./client_hello.ts";
import type { Connections, Http1Handler } from "./connections.ts";
import type { Http1Server } from "./server.ts";
import {
  type CertSet,
  openCertSet,
  shutTerminators,
  type SniCert,
  type Terminators,
} from "./tls_terminators.ts";

/** Why a handshake failed, as `lb_tls_handshake_failures_total{reason}` counts it. */
export type HandshakeFailure = "timeout" | "protocol" | "certificate" | "other";

/** Options for {@linkcode serveTls}. */
export interface TlsListenerOptions {
  readonly hostname: string;
  readonly port: number;
  /** Open the public socket with `SO_REUSEPORT` (see `Http1ServerOptions.reusePort`). @default false */
  readonly reusePort?: boolean;
  /** PEM certificate chain and private key. */
  readonly cert: string;
  readonly key: string;
  /** Further certificates, chosen by the server name a client sends (SNI). @default [] */
  readonly sni?: readonly SniCert[];
  /** Offer `h2`. */
  readonly http2: boolean;
  /** A client that has not finished its handshake by then is cut off. */
  readonly handshakeTimeoutMs: () => number;
  /** Called once per failed handshake. */
  readonly onHandshakeFailure?: (reason: HandshakeFailure, error: string) => void;
  /** Errors of the HTTP/2 terminator's handler. */
  readonly onError: (e: unknown) => void;
}

/** A running TLS listener. */
export interface TlsServer extends Http1Server {
  /**
   * Serve new connections with another default certificate and SNI certificates; open connections
   * keep theirs.
   *
   * @throws {Error} when a pair does not load; the running certificates stay
   */
  rotate(cert: string, key: string, sni?: readonly SniCert[]): Promise<void>;
}

/** Classify a handshake error for the failure metric. */
export function handshakeFailure(e: Error): HandshakeFailure {
  const m = e.message;
  if (/corrupt message|InvalidContentType|InvalidMessage|peer is incompatible|no.*protocol/i.test(m)) {
    return "protocol";
  }
  if (/alert: (CertificateUnknown|BadCertificate|UnknownCA|CertificateExpired|AccessDenied)/i.test(m)) {
    return "certificate";
  }
  return "other";
}

/** A relayed connection, by the port its loopback side comes from. */
interface Relay {
  readonly client: Deno.NetAddr;
  close(): void;
}

/** Listen on `hostname:port` over TLS; see the module documentation. */
export function serveTls(options: TlsListenerOptions, conns: Connections, handler: Http1Handler): TlsServer {
  const { limits } = conns;
  const relays = new Map<number, Relay>();
  const fail = (reason: HandshakeFailure, why: string) => options.onHandshakeFailure?.(reason, why);

  const serveH1 = async (conn: Deno.TlsConn) => {
    const port = conn.remoteAddr.port;
    // The relay is known once bytes flow, and the handshake needs bytes: look it up after.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      relays.get(port)?.close(); // closing the TLS side alone would not free its socket
      conn.close();
    }, options.handshakeTimeoutMs());
    try {
      await conn.handshake();
    } catch (e) {
      fail(timedOut ? "timeout" : handshakeFailure(e as Error), (e as Error).message);
      relays.get(port)?.close();
      if (!timedOut) conn.close();
      return;
    } finally {
      clearTimeout(timer);
    }
    const relay = relays.get(port);
    if (!relay) return conn.close(); // not a relay of this listener
    conns.serve(conn, relay.client, true);
  };
  const open = (cert: string, key: string, sni: readonly SniCert[]): CertSet =>
    openCertSet({ cert, key }, sni, {
      http2: options.http2,
      handler,
      serveH1: (conn) => void serveH1(conn),
      clientOf: (p) => relays.get(p)?.client,
      onError: options.onError,
    });
  let current = open(options.cert, options.key, options.sni ?? []);

  const relay = async (public_: Deno.TcpConn) => {
    public_.setNoDelay(true);
    const client = new BufferedConn(public_, 20 * 1024, 2 * 1024);
    const deadline = limits.now() + options.handshakeTimeoutMs();
    const expired = { at: -1 };
    const timer = setTimeout(() => (expired.at = limits.now(), client.close()), options.handshakeTimeoutMs());
    let hello: ClientHello;
    try {
      hello = await readHello(client);
    } catch (e) {
      clearTimeout(timer);
      client.close();
      return fail(limits.now() >= deadline ? "timeout" : "protocol", (e as Error).message);
    }
    const to = current.pick(hello.serverName);
    to.relays++;
    try {
      await pass(client, to, hello.alpn.includes("h2"), timer, expired);
    } finally {
      if (--to.relays === 0 && to.retired) shut(to);
    }
  };

  /** Relay `client` (its ClientHello buffered) to `to`'s terminator for the protocol asked. */
  const pass = async (
    client: BufferedConn,
    to: Terminators,
    h2: boolean,
    timer: ReturnType<typeof setTimeout>,
    expired: { at: number },
  ) => {
    const public_ = client.conn;
    let inner: Deno.TcpConn;
    try {
      inner = await Deno.connect({
        hostname: "127.0.0.1",
        port: h2 && to.h2 ? to.h2.addr.port : to.h1.addr.port,
      });
    } catch (e) {
      clearTimeout(timer);
      client.close();
      return fail("other", (e as Error).message);
    }
    // The HTTP/1.1 terminator times its own handshake (serveH1). `Deno.serve` times none, so for
    // h2 the ClientHello's deadline runs on until the client's first application-data record: a
    // client that sends its ClientHello and stalls is cut off at `tls_handshake` all the same.
    const toH2 = h2 && to.h2 !== undefined;
    let shaken = !toH2;
    if (shaken) clearTimeout(timer);
    const watch = clientHandshakeWatch();
    const watchFirst = toH2
      ? (chunk: Uint8Array) => {
        if (!watch(chunk)) return false;
        shaken = true;
        clearTimeout(timer);
        return true;
      }
      : undefined;
    inner.setNoDelay(true);
    const port = inner.localAddr.port;
    const back = new BufferedConn(inner, 16 * 1024, 2 * 1024);
    const close = () => (client.close(), back.close());
    relays.set(port, { client: public_.remoteAddr as Deno.NetAddr, close });
    const done = conns.adopt({ active: true, close });
    try {
      // The terminators keep their own time: the HTTP/1.1 loop closes a keep-alive connection
      // idle for `client_idle` and a WebSocket tunnel idle for `tunnel_idle`, and the relay ends
      // when they close. Its own idle limit is a backstop that must not cut a `wss://` tunnel
      // sooner; h2 has no tunnels, and `Deno.serve` no idle limit of its own.
      const idleMs = h2 ? limits.idleTimeoutMs() : Math.max(limits.idleTimeoutMs(), limits.tunnelIdleMs());
      await tunnel(client, back, {
        idleMs,
        deadlines: limits.deadlines,
        now: limits.now,
        endWithSecond: true,
        watchFirst,
      });
      if (!shaken) {
        clearTimeout(timer);
        if (expired.at >= 0) fail("timeout", `no TLS handshake within ${options.handshakeTimeoutMs()}ms`);
      }
    } finally {
      relays.delete(port);
      done();
    }
  };

  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    ...(options.reusePort ? { reusePort: true } : {}),
  });
  void (async () => {
    try {
      for await (const conn of listener) {
        if (conns.stopping) conn.close();
        else void relay(conn);
      }
    } catch { /* closed */ }
  })();

  const retiring = new Set<Promise<void>>();
  /** Close a terminator nobody is routed to any more. */
  const shut = (t: Terminators) => {
    const closing = shutTerminators(t);
    if (!closing) return;
    const done: Promise<void> = closing.finally(() => retiring.delete(done));
    retiring.add(done);
  };
  /** No new connection goes to `set`; each terminator closes once its relays have ended. */
  const retire = (set: CertSet) => {
    for (const t of set.all) {
      t.retired = true;
      if (t.relays === 0) shut(t);
    }
  };
  return {
    addr: listener.addr,
    rotate(cert, key, sni = []) {
      const next = open(cert, key, sni);
      const old = current;
      current = next;
      retire(old);
      return Promise.resolve();
    },
    async shutdown() {
      try {
        listener.close();
      } catch { /* closed already */ }
      // Shutting down: the h2 terminators stop now (gracefully), not after their relays.
      current.all.forEach(shut);
      await Promise.all([...retiring, conns.shutdown()]);
    },
    close() {
      try {
        listener.close();
      } catch { /* closed already */ }
      current.all.forEach(shut);
      conns.close();
    },
  };
}

/**
 * Read the first TLS record into `c`'s buffer (left there for the relay to pass on) and return
 * what its ClientHello asks for: the server name and the ALPN protocols.
 *
 * @throws {Error} when the bytes are not a TLS ClientHello, or the connection ends first
 */
async function readHello(c: BufferedConn): Promise<ClientHello> {
  while (c.buffered < 5) if (!(await c.readAhead())) throw new Error("closed before a ClientHello");
  const length = helloRecordLength(c.peek(5));
  if (length === "not tls") throw new Error("not a TLS ClientHello");
  while (c.buffered < length) if (!(await c.readAhead())) throw new Error("closed inside the ClientHello");
  const hello = parseClientHello(c.peek(length));
  if (!hello) throw new Error("malformed ClientHello");
  return hello;
}
