/**
 * The WebSocket benchmark's backend: `Deno.upgradeWebSocket` echoing every message back as it
 * came (text as text, binary as binary), and `200 ok` on every other request, so the proxy's
 * health checks pass. Every proxy in the WebSocket rows talks to one process of it.
 *
 * ```
 * deno run --allow-net=127.0.0.1 tools/bench/ws_echo_backend.ts PORT
 * ```
 *
 * @module
 */

/**
 * Serve the echo backend on `127.0.0.1:port`.
 *
 * @param port The TCP port; 0 picks a free one.
 * @returns the running server (`shutdown()` stops it)
 * @example Echo on a free port
 * ```ts
 * import { serveWsEcho } from "./ws_echo_backend.ts";
 * const server = serveWsEcho(0);
 * await server.shutdown();
 * ```
 */
export function serveWsEcho(port: number): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("ok\n");
    // idleTimeout 0: no server pings, so the clients only ever read echoes.
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => socket.send(e.data);
    socket.onerror = () => {};
    return response;
  });
}

if (import.meta.main) {
  const port = Number(Deno.args[0]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RangeError(
      `Cannot listen as the port argument is not a TCP port: current value is ${Deno.args[0]}`,
    );
  }
  serveWsEcho(port);
}
