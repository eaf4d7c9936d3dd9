/**
 * The HTTP/1.1 client that talks to backends.
 *
 * It must not do what a browser-style `fetch` does: no redirect following, no transparent
 * decompression, no added headers, and the client's `Host` preserved. `node:http` gives exactly
 * that with pooled keep-alive connections, so the forwarder speaks to this small interface and
 * the transport can be replaced without touching it.
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import type { Backend } from "./backend.ts";

/** How a request to a backend failed before its response headers arrived. */
export type FailureKind = "connect" | "timeout" | "reset" | "cancelled";

/** A request ready for the backend: hop-by-hop headers already removed. */
export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target (`/path?query`), byte-for-byte as the client sent it. */
  readonly target: string;
  readonly headers: Record<string, string>;
  /** A stream is sent as it arrives; bytes (a buffered body that may be replayed) in one write. */
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null;
  /** Aborts the request (client gone). */
  readonly signal: AbortSignal;
}

/** How a response body ended: fully read, broken by the backend, or cancelled by the client. */
export type BodyOutcome = "complete" | "reset" | "cancelled";

/** Response headers arrived; the body streams and reports its end through `onEnd`. */
export interface UpstreamResponse {
  readonly ok: true;
  readonly status: number;
  /** Raw header pairs in order, repeats kept (several `Set-Cookie`). */
  readonly headers: readonly string[];
  /** Null when the response has no body (HEAD, 204, 304). */
  readonly body: ReadableStream<Uint8Array> | null;
}

/** The request failed before response headers. */
export interface UpstreamFailure {
  readonly ok: false;
  readonly kind: FailureKind;
  readonly message: string;
}

/** Timeouts applied per attempt. */
export interface UpstreamTimeouts {
  /** TCP (and TLS) connect. */
  readonly connectMs: number;
  /** Until response headers. */
  readonly requestMs: number;
}

/** Error codes meaning the connection was never established. */
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
]);

/** Pooled keep-alive client to backends. */
export class UpstreamClient {
  #agents = new Map<string, http.Agent>();

  #agent(backend: Backend): http.Agent {
    let agent = this.#agents.get(backend.url);
    if (!agent) {
      const Agent = backend.secure ? https.Agent : http.Agent;
      agent = new Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: "lifo" });
      this.#agents.set(backend.url, agent);
    }
    return agent;
  }

  /**
   * Send a request; resolves with the response headers or a failure, never rejects.
   *
   * For a response, `onEnd` is called exactly once when its body ends; for a failure it is not
   * called (the failure itself is the end).
   */
  send(
    backend: Backend,
    r: UpstreamRequest,
    timeouts: UpstreamTimeouts,
    onEnd: (outcome: BodyOutcome) => void,
  ): Promise<UpstreamResponse | UpstreamFailure> {
    return new Promise((resolve) => {
      const mod = backend.secure ? https : http;
      let settled = false;
      let connected = false;
      const req = mod.request({
        host: backend.hostname,
        port: backend.port,
        method: r.method,
        path: r.target,
        headers: r.headers,
        agent: this.#agent(backend),
        setHost: false,
      });
      const fail = (kind: FailureKind, message: string) => {
        if (settled) return;
        settled = true;
        cleanup();
        req.destroy();
        resolve({ ok: false, kind, message });
      };
      const timer = setTimeout(
        () => fail("timeout", `no response within ${timeouts.requestMs}ms`),
        timeouts.requestMs,
      );
      const onAbort = () => fail("cancelled", "client went away");
      r.signal.addEventListener("abort", onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        r.signal.removeEventListener("abort", onAbort);
      };
      if (r.signal.aborted) return onAbort();

      req.on("socket", (socket) => {
        if (!socket.connecting) return void (connected = true);
        const connectTimer = setTimeout(
          () => fail("connect", `connect timeout after ${timeouts.connectMs}ms`),
          timeouts.connectMs,
        );
        socket.once("connect", () => {
          connected = true;
          clearTimeout(connectTimer);
        });
        socket.once("close", () => clearTimeout(connectTimer));
      });
      req.on("error", (e: NodeJS.ErrnoException) => {
        const code = e.code ?? "";
        fail(!connected && CONNECT_CODES.has(code) ? "connect" : "reset", `${code || e.name}: ${e.message}`);
      });
      req.on("response", (res: http.IncomingMessage) => {
        if (settled) return void res.destroy();
        settled = true;
        cleanup();
        const status = res.statusCode ?? 502;
        const bodyless = r.method === "HEAD" || status === 204 || status === 304;
        const body = bodyless ? null : streamBody(res, onEnd);
        if (bodyless) {
          res.resume();
          onEnd("complete");
        }
        resolve({ ok: true, status, headers: res.rawHeaders, body });
      });

      if (r.body === null) {
        req.end();
      } else if (r.body instanceof Uint8Array) {
        req.end(r.body);
      } else {
        const source = Readable.fromWeb(r.body as import("node:stream/web").ReadableStream<Uint8Array>);
        source.on("error", () => fail("cancelled", "client request body aborted"));
        source.pipe(req);
      }
    });
  }

  /** Close the pooled connections to one origin (a backend that left the pool). */
  forget(url: string): void {
    this.#agents.get(url)?.destroy();
    this.#agents.delete(url);
  }

  /** Close every pooled connection. */
  close(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}

/**
 * Adapt a node response to a web stream with backpressure (pause when the client is slow) and
 * report how it ended exactly once.
 */
function streamBody(
  res: http.IncomingMessage,
  onEnd: (outcome: BodyOutcome) => void,
): ReadableStream<Uint8Array> {
  let ended = false;
  const end = (outcome: BodyOutcome) => {
    if (ended) return;
    ended = true;
    onEnd(outcome);
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      res.on("data", (chunk: Uint8Array) => {
        // Data can still be emitted after the stream was cancelled (the client left) and the
        // socket destroyed; enqueueing then throws inside an event handler, which would take the
        // whole process down.
        if (ended) return;
        try {
          controller.enqueue(chunk);
        } catch {
          end("cancelled");
          res.destroy();
          return;
        }
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      res.on("end", () => {
        if (ended) return;
        controller.close();
        end("complete");
      });
      res.on("close", () => {
        if (ended) return;
        controller.error(new Error("upstream closed the response early"));
        end("reset");
      });
      res.on("error", () => {});
    },
    pull() {
      res.resume();
    },
    cancel() {
      end("cancelled");
      res.destroy();
    },
  }, { highWaterMark: 65536, size: (chunk) => chunk.byteLength });
}
