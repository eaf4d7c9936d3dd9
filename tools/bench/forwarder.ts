/**
 * The yardstick, not a product path: the least a proxy on this runtime can do. Each accepted
 * connection gets one connection to the backend and bytes are copied both ways until either side
 * closes. No HTTP parsing, no balancing, no metrics, no timeouts, no limits: what it costs is the
 * runtime's floor (its socket ops, event loop and promises), so `bench:proxy` reports this proxy's
 * throughput as a ratio of it, measured in the same rounds.
 *
 * deno run --allow-net tools/bench/forwarder.ts LISTEN_PORT BACKEND_PORT
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

async function serve(client: Deno.TcpConn, backendPort: number): Promise<void> {
  let backend: Deno.TcpConn;
  try {
    backend = await Deno.connect({ hostname: "127.0.0.1", port: backendPort });
  } catch {
    client.close();
    return;
  }
  client.setNoDelay(true);
  backend.setNoDelay(true);
  await Promise.all([pipe(client, backend), pipe(backend, client)]);
  for (const c of [client, backend]) {
    try {
      c.close();
    } catch { /* closed */ }
  }
}

if (import.meta.main) {
  const [listenPort, backendPort] = Deno.args.map(Number);
  if (!Number.isInteger(listenPort) || !Number.isInteger(backendPort)) {
    console.error("usage: forwarder.ts LISTEN_PORT BACKEND_PORT");
    Deno.exit(2);
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: listenPort });
  for await (const conn of listener) void serve(conn, backendPort);
}
