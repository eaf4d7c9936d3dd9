/**
 * WebSocket peers the project does not write, for the tunnel tests: the npm `ws` package as the
 * backend (an echo server behind a node:http server that also answers `/health`) and as the
 * client.
 *
 * @module
 */

import { createServer, type Server } from "node:http";
// @ts-types="@types/ws"
import WebSocket, { WebSocketServer } from "ws";

export { WebSocket };

/** A started `ws` backend. */
export interface WsBackend {
  readonly port: number;
  readonly url: string;
  readonly wss: WebSocketServer;
  /** Sockets the backend accepted, in order. */
  readonly sockets: WebSocket[];
  /** The request headers of each upgrade the backend accepted. */
  readonly upgrades: Record<string, string | string[] | undefined>[];
  /** The target of each plain (not upgrade) request it answered with its 404, `/health` excluded. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * Start a `ws` server on 127.0.0.1 (`port` 0: any). By default it echoes every message (text as
 * text, binary as binary); `onConnection` replaces that.
 */
export async function startWsBackend(
  onConnection?: (socket: WebSocket) => void,
  port = 0,
): Promise<WsBackend> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url !== "/health") requests.push(req.url ?? "");
    res.writeHead(req.url === "/health" ? 200 : 404, { "content-type": "text/plain" });
    res.end(req.url === "/health" ? "ok" : "not a websocket request");
  });
  const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 * 1024 });
  const sockets: WebSocket[] = [];
  const upgrades: WsBackend["upgrades"] = [];
  wss.on("connection", (socket, req) => {
    sockets.push(socket);
    upgrades.push(req.headers);
    if (onConnection) return onConnection(socket);
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  const bound = (server.address() as { port: number }).port;
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    wss,
    sockets,
    upgrades,
    requests,
    close: async () => {
      for (const s of wss.clients) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Open a `ws` client and wait until it is open (or fail with why). */
export function openClient(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // Bounded: a handshake that never completes fails the test instead of hanging it.
    const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024, handshakeTimeout: 20_000, ...options });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode} instead of 101`)));
  });
}

/** The next message on `ws`, as `[data, isBinary]`. */
export function nextMessage(ws: WebSocket, timeoutMs = 5000): Promise<[Buffer, boolean]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no message in time")), timeoutMs);
    ws.once("message", (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer);
      resolve([data, isBinary]);
    });
  });
}

/** Resolves with the close code and reason once `ws` is closed. */
export function closed(ws: WebSocket, timeoutMs = 5000): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve([1006, ""]);
    const timer = setTimeout(() => reject(new Error("not closed in time")), timeoutMs);
    ws.once("close", (code: number, reason: Buffer) => {
      clearTimeout(timer);
      resolve([code, reason.toString()]);
    });
  });
}
