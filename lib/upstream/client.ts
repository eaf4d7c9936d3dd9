/**
 * The HTTP/1.1 client that talks to backends: pooled keep-alive connections on `Deno.connect`,
 * with TLS started on them by `Deno.startTls` for `https://` origins.
 *
 * It must not do what a browser-style `fetch` does: no redirect following, no transparent
 * decompression, no added headers, and the client's `Host` preserved. Writing the request and
 * reading the response ourselves gives exactly that, and skips the stream adapters that cost a
 * general-purpose client most of its time on small responses.
 *
 * @module
 */

import { UpstreamConn } from "./conn.ts";
import type {
  BodyOutcome,
  Origin,
  UpstreamFailure,
  UpstreamRequest,
  UpstreamResponse,
  UpstreamTimeouts,
} from "./types.ts";
import { Deadlines, type Expiring } from "../base/mod.ts";
import { ConnExchange, type ExchangePool } from "./exchange.ts";

/** Options for {@linkcode UpstreamClient}. */
export interface UpstreamClientOptions {
  /** Monotonic clock in ms; deadlines and idle times are measured with it. @default performance.now */
  readonly now?: () => number;
}

/** A pooled connection idle this long gets a read that notices its backend closing it. */
const PARK_AFTER_MS = 1_000;

/** Idle connections kept per backend; more than this many idle at once are closed. */
const MAX_IDLE_PER_BACKEND = 256;

/** Pooled keep-alive client to backends. */
export class UpstreamClient {
  #idle = new Map<Origin, UpstreamConn[]>();
  readonly #now: () => number;
  /** When to start watching the client's signal, then the response header deadline. */
  readonly #deadlines: Deadlines;
  #closed = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** What each exchange hands a reusable connection back to, or asks for a replay (one per client). */
  readonly #pool: ExchangePool = {
    reuse: (origin, conn) => this.#put(origin, conn),
    replay: (ex) => this.#exchange(ex.origin, ex.request, ex.timeouts, ex.started, ex.onEnd, false),
  };

  constructor(options: UpstreamClientOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#deadlines = new Deadlines(this.#now);
  }

  /**
   * Dial, and for a secure origin finish the TLS handshake, within `timeouts.connectMs`. TLS is
   * started on the TCP connection (`Deno.startTls`) rather than dialled with `Deno.connectTls`
   * so that the name verified and sent as SNI can differ from the address (`tls.server_name`),
   * and so TLS connections get `TCP_NODELAY` too. The handshake is awaited here: a certificate
   * problem is then a connect failure that names itself, not a reset on the first read.
   */
  async #connect(backend: Origin, timeouts: UpstreamTimeouts, signal: AbortSignal): Promise<UpstreamConn> {
    // The client's signal or the connect deadline, whichever comes first. The deadline joins the
    // client's one timer and leaves it once connected: `AbortSignal.timeout` would arm a timer
    // per dial that lives its whole period (and holds the signals it was combined with).
    const dial = new AbortController();
    const limit = dial.signal;
    const onClient = () => dial.abort(signal.reason);
    const deadline: Expiring = {
      deadline: this.#now() + timeouts.connectMs,
      expire: () => dial.abort(new DOMException("The connect deadline passed.", "TimeoutError")),
    };
    if (signal.aborted) onClient();
    signal.addEventListener("abort", onClient, { once: true });
    this.#deadlines.add(deadline);
    try {
      return await this.#dial(backend, limit);
    } finally {
      this.#deadlines.delete(deadline);
      signal.removeEventListener("abort", onClient);
    }
  }

  async #dial(backend: Origin, limit: AbortSignal): Promise<UpstreamConn> {
    const tcp = await Deno.connect({ hostname: backend.hostname, port: backend.port, signal: limit });
    tcp.setNoDelay(true);
    if (!backend.secure) return new UpstreamConn(tcp);
    const tls = backend.tls;
    let conn: Deno.TlsConn;
    try {
      conn = await Deno.startTls(tcp, {
        hostname: tls?.serverName ?? backend.hostname,
        caCerts: tls?.caCerts ? [...tls.caCerts] : undefined,
      });
    } catch (e) {
      tcp.close();
      throw new TlsHandshakeError(e as Error);
    }
    // Closing the connection is the only way to stop a handshake the peer never answers.
    const stop = () => conn.close();
    if (limit.aborted) stop();
    else limit.addEventListener("abort", stop, { once: true });
    try {
      await conn.handshake();
    } catch (e) {
      // Aborted: stop() closed it, and the limit's reason (a timeout, the client) is the cause.
      if (!limit.aborted) conn.close();
      throw new TlsHandshakeError(limit.aborted ? limit.reason as Error : e as Error);
    } finally {
      limit.removeEventListener("abort", stop);
    }
    return new UpstreamConn(conn);
  }

  #take(backend: Origin): UpstreamConn | undefined {
    const idle = this.#idle.get(backend);
    while (idle?.length) {
      const c = idle.pop()!;
      if (!c.closed) {
        c.unpark();
        return c;
      }
    }
    return undefined;
  }

  #put(backend: Origin, c: UpstreamConn): void {
    let idle = this.#idle.get(backend);
    if (!idle) this.#idle.set(backend, idle = []);
    if (this.#closed || idle.length >= MAX_IDLE_PER_BACKEND) return c.close();
    c.idle(this.#sweeps);
    idle.push(c);
    this.#sweeper ??= setInterval(() => this.#watchIdle(), PARK_AFTER_MS);
  }

  /**
   * Sweeps of the idle pool so far: a connection's idle time is counted in sweeps, one every
   * {@linkcode PARK_AFTER_MS}, not read from the clock each time one returns to the pool (a clock
   * reading per request). One put back after sweep k is idle for at least that long at sweep k+2.
   */
  #sweeps = 0;

  /** Watch connections idle for a while for a close by their backend (see lib/upstream/conn.ts). */
  #watchIdle(): void {
    const sweep = ++this.#sweeps;
    let any = false;
    for (const idle of this.#idle.values()) {
      for (const c of idle) {
        any = true;
        if (c.parked || c.idleSince > sweep - 2) continue;
        c.park(() => {
          const i = idle.indexOf(c);
          if (i !== -1) idle.splice(i, 1);
        });
      }
    }
    if (!any) this.#stopSweeper();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /**
   * Send a request; resolves with the response headers or a failure, never rejects.
   *
   * For a response, `onEnd` is called exactly once when its body ends; for a failure it is not
   * called (the failure itself is the end). A request without a body (or with a buffered one) is
   * replayed once, on another connection, when a reused connection turns out to have been closed
   * by the backend before it answered (as Go's Transport does).
   *
   * @param started when the request started on the client's clock (the caller's own reading
   *   saves one), from which the response timeout counts @default now
   */
  send(
    backend: Origin,
    r: UpstreamRequest,
    timeouts: UpstreamTimeouts,
    onEnd: (outcome: BodyOutcome) => void,
    started: number = this.#now(),
  ): Promise<UpstreamResponse | UpstreamFailure> {
    return this.#exchange(backend, r, timeouts, started, onEnd, !(r.body instanceof ReadableStream));
  }

  /** One try on a pooled connection, or on a new one; a pooled one needs no await of its own here. */
  #exchange(
    backend: Origin,
    r: UpstreamRequest,
    timeouts: UpstreamTimeouts,
    started: number,
    onEnd: (outcome: BodyOutcome) => void,
    mayReplay: boolean,
  ): Promise<UpstreamResponse | UpstreamFailure> {
    const c = this.#take(backend);
    const ex = new ConnExchange(backend, r, timeouts, started, this.#deadlines, this.#pool, onEnd, mayReplay);
    return c ? ex.run(c) : this.#dialFor(ex);
  }

  async #dialFor(ex: ConnExchange): Promise<UpstreamResponse | UpstreamFailure> {
    const { origin, request: r, timeouts } = ex;
    if (r.signal.aborted) return { ok: false, kind: "cancelled", message: "client went away" };
    let c: UpstreamConn;
    try {
      c = await this.#connect(origin, timeouts, r.signal);
    } catch (e) {
      if (r.signal.aborted) return { ok: false, kind: "cancelled", message: "client went away" };
      const message = connectFailure(e as Error, origin, timeouts.connectMs);
      // Nothing was sent, so a handshake failure is a connect failure (retried like one).
      return e instanceof TlsHandshakeError
        ? { ok: false, kind: "connect", message, reason: `upstream ${message}` }
        : { ok: false, kind: "connect", message };
    }
    return await ex.run(c);
  }

  /** Close the pooled connections to one origin (a backend that left the pool). */
  forget(origin: Origin): void {
    for (const c of this.#idle.get(origin) ?? []) c.close();
    this.#idle.delete(origin);
  }

  /** Close every pooled connection. */
  close(): void {
    this.#closed = true;
    this.#stopSweeper();
    this.#deadlines.clear();
    for (const idle of this.#idle.values()) for (const c of idle) c.close();
    this.#idle.clear();
  }
}

/** A TLS handshake with a backend failed; `failure` is the runtime's error. */
class TlsHandshakeError extends Error {
  constructor(readonly failure: Error) {
    super(failure.message);
    this.name = "TlsHandshakeError";
  }
}

/**
 * What the runtime's (rustls') terse handshake errors mean for whoever configures
 * `backends[].tls`; its own text is kept in front of each. Errors that explain themselves
 * (`certificate not valid for name ...`, `certificate expired: ...`) get no hint.
 */
const TLS_HINTS: readonly (readonly [RegExp, string])[] = [
  [/UnknownIssuer/, "not issued by a trusted CA: set tls.ca to the CA that signed it"],
  [/CaUsedAsEndEntity/, "the backend presents a CA certificate as its own: give it one the CA issued"],
  [/InvalidContentType|corrupt message/, "is it a TLS server? (an http:// backend behind an https:// URL)"],
];

/**
 * What failed and where, as a connect error is usually written (`connect ECONNREFUSED
 * 127.0.0.1:9001`): the error code when the runtime gives one, else its message. A failed TLS
 * handshake says so, with the name it verified when that is not the address
 * (`tls handshake with 127.0.0.1:9443 (server_name backend.test) failed: ...`).
 *
 * @param e what `Deno.connect` or the handshake threw
 * @param origin the origin dialled
 * @param connectMs the connect limit, for a timeout's message
 * @returns one line, without a trailing period
 * @example Connection refused
 * ```ts
 * import { connectFailure } from "./client.ts";
 * const e = Object.assign(new Error("Connection refused"), { code: "ECONNREFUSED" });
 * connectFailure(e, { hostname: "127.0.0.1", port: 9001, secure: false }, 5000);
 * // "connect ECONNREFUSED 127.0.0.1:9001"
 * ```
 */
export function connectFailure(e: Error, origin: Origin, connectMs: number): string {
  const host = origin.hostname.includes(":") ? `[${origin.hostname}]` : origin.hostname;
  const where = `${host}:${origin.port}`;
  if (e instanceof TlsHandshakeError) {
    const name = origin.tls?.serverName;
    const what = `tls handshake with ${where}${name ? ` (server_name ${name})` : ""}`;
    const cause = e.failure;
    if (cause.name === "TimeoutError") return `${what} timed out (no handshake within ${connectMs}ms)`;
    const hint = TLS_HINTS.find(([pattern]) => pattern.test(cause.message))?.[1];
    return `${what} failed: ${cause.message}${hint ? ` (${hint})` : ""}`;
  }
  if (e.name === "TimeoutError") return `connect ETIMEDOUT ${where} (no answer within ${connectMs}ms)`;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && code !== ""
    ? `connect ${code} ${where}`
    : `connect ${where}: ${e.message}`;
}
