/**
 * The shapes the upstream client and its exchanges share: where a backend listens, the request
 * sent to it, and what comes back.
 *
 * @module
 */

import type { BodyOutcome, BufferedConn } from "../http1/mod.ts";

export type { BodyOutcome };

/**
 * How a secure origin's certificate is checked (`backends[].tls`). Read only when the origin is
 * `secure`.
 */
export interface OriginTls {
  /**
   * PEM CA certificates trusted for this origin, in addition to the runtime's default roots (as
   * `Deno.startTls` takes them). @default the default roots only
   */
  readonly caCerts?: readonly string[];
  /**
   * Name sent as SNI and verified against the certificate, when it differs from the address
   * dialled. @default the origin's `hostname` (an IP address gets no SNI and is verified as one)
   */
  readonly serverName?: string;
}

/**
 * Where a backend listens: what the client dials. The pool's backends are origins; idle
 * connections are kept per origin object, so an origin with other TLS settings is another
 * object and never gets a connection made under the old ones.
 */
export interface Origin {
  readonly hostname: string;
  readonly port: number;
  /** Dial TLS (`https://` backends). */
  readonly secure: boolean;
  /** Certificate checks for a secure origin. @default the default roots, verified as `hostname` */
  readonly tls?: OriginTls;
}

/** How a request to a backend failed before its response headers arrived. */
export type FailureKind = "connect" | "timeout" | "reset" | "cancelled";

/** A request ready for the backend: hop-by-hop headers already removed. */
export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target (`/path?query`), byte-for-byte as the client sent it. */
  readonly target: string;
  /** Flat `[name, value, ...]`; framing (`content-length`, chunked) is the client's business. */
  readonly headers: readonly string[];
  /** A stream is sent as it arrives; bytes (a buffered body that may be replayed) in one write. */
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null;
  /**
   * Aborts the request until its response headers arrive (client gone). Read only for requests
   * that wait a while: pass a getter when creating the signal has a cost (the public listener
   * creates a request's signal on its first read).
   */
  readonly signal: AbortSignal;
  /**
   * The request asks to switch protocols (`Connection: upgrade` with `Upgrade`): a 101 answer
   * hands the connection over as {@linkcode UpstreamResponse.upgraded} instead of failing.
   */
  readonly upgrade?: boolean;
}

/** A backend connection that switched protocols: the bytes after the 101 are the tunnel's. */
export interface UpstreamTunnel {
  /** The connection, with any bytes the backend sent after its 101 still buffered. */
  readonly conn: BufferedConn;
  /** The tunnel is over: close the connection and end the exchange's accounting (`onEnd`). */
  end(outcome: BodyOutcome): void;
}

/** Response headers arrived; the body streams and reports its end through `onEnd`. */
export interface UpstreamResponse {
  readonly ok: true;
  readonly status: number;
  /** Raw header pairs in order, repeats kept (several `Set-Cookie`). */
  readonly headers: readonly string[];
  /**
   * Null when the response has no body (HEAD, 204, 304). Bytes when the whole body arrived with
   * the head: a small response then skips the stream plumbing on both sides, which costs more
   * than the rest of the exchange.
   */
  readonly body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null;
  /**
   * The length the response declares, from its parsed head: the body's for a length-delimited
   * body, the representation's for HEAD and 304; undefined for chunked and close-delimited
   * bodies. The client's response is framed by this, never by re-reading a header string.
   */
  readonly length: number | undefined;
  /** For a 101 to an upgrade request: the connection that now carries the new protocol. */
  readonly upgraded?: UpstreamTunnel;
}

/** The request failed before response headers. */
export interface UpstreamFailure {
  readonly ok: false;
  readonly kind: FailureKind;
  readonly message: string;
  /**
   * What the client's error page says, when the kind alone says too little: a failed TLS
   * handshake (`upstream tls handshake with ... failed: ...`), a misconfiguration the client
   * cannot fix by retrying and an operator reading the 502 needs to see.
   */
  readonly reason?: string;
}

/** Timeouts applied per attempt. */
export interface UpstreamTimeouts {
  /** TCP (and TLS) connect. */
  readonly connectMs: number;
  /** Until response headers. */
  readonly requestMs: number;
}
