/**
 * The yardstick, not a product path: the least a proxy on this runtime can do. Each accepted
 * connection gets one connection to the backend and bytes are copied both ways until either side
 * closes. No HTTP parsing, no balancing, no metrics, no timeouts, no limits: what it costs is the
 * runtime's floor (its socket ops, event loop and promises), so `bench:proxy` reports this proxy's
 * throughput as a ratio of it, measured in the same rounds.
 *
 * deno run --allow-net tools/bench/forwarder.ts LISTEN_PORT BACKEND_PORT
 *
 * With `--tls CERT KEY` it terminates TLS first (`Deno.listenTls`, HTTP/1.1 by ALPN): the
 * runtime's floor for HTTPS. With `--relay` as well, the public port is plain TCP relayed to that
 * TLS listener on loopback: the shape this proxy's TLS listener has (lib/listener/tls.ts: a
 * `Deno.listenTls` connection whose handshake is pending cannot be closed, so the public socket
 * must be one the proxy can close), so what the relay hop costs on this runtime is measured apart.
 *
 * @module
 */

const CHUNK = 16 * 1024;

/** Copy `from` to `to` until EOF or an error, then close the write side of `to`. */
async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(CHUNK);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch { /* either side went away */ }
  try {
    await to.closeWrite();
  } catch { /* already closed */ }
}

async function serve(client: Deno.Conn, backendPort: number): Promise<void> {
  let backend: Deno.TcpConn;
  try {
    backend = await Deno.connect({ hostname: "127.0.0.1", port: backendPort });
  } catch {
    client.close();
    return;
  }
  if ("setNoDelay" in client) (client as Deno.TcpConn).setNoDelay(true);
  backend.setNoDelay(true);
  await Promise.all([pipe(client, backend), pipe(backend, client)]);
  for (const c of [client, backend]) {
    try {
      c.close();
    } catch { /* closed */ }
  }
}

if (import.meta.main) {
  const [listenPort, backendPort] = Deno.args.slice(0, 2).map(Number);
  const tls = Deno.args.indexOf("--tls");
  const files = tls === -1 ? [] : Deno.args.slice(tls + 1, tls + 3);
  if (!Number.isInteger(listenPort) || !Number.isInteger(backendPort) || (tls !== -1 && files.length !== 2)) {
    console.error("usage: forwarder.ts LISTEN_PORT BACKEND_PORT [--tls CERT_FILE KEY_FILE [--relay]]");
    Deno.exit(2);
  }
  if (tls === -1) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: listenPort });
    for await (const conn of listener) void serve(conn, backendPort);
  } else {
    const [cert, key] = files.map((f) => Deno.readTextFileSync(f));
    const relay = Deno.args.includes("--relay");
    const terminator = Deno.listenTls({
      hostname: "127.0.0.1",
      port: relay ? 0 : listenPort,
      cert,
      key,
      alpnProtocols: ["http/1.1"],
    });
    if (relay) {
      const inner = (terminator.addr as Deno.NetAddr).port;
      void (async () => {
        for await (const conn of Deno.listen({ hostname: "127.0.0.1", port: listenPort })) {
          void serve(conn, inner);
        }
      })();
    }
    for await (const conn of terminator) void serve(conn, backendPort);
  }
}
