import { startBackend, startLb } from "./_util/harness.ts";
Deno.test("probe", async () => {
  const be = startBackend(() =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(1024).fill(120));
        },
        async pull(c) {
          await new Promise((r) => setTimeout(r, 20));
          c.enqueue(new Uint8Array(1024).fill(120));
        },
      }),
    )
  );
  const lb = await startLb([be.url], "shutdown_timeout: 3s");
  const port = lb.proxyAddr.port;
  const req = new TextEncoder().encode("GET /s HTTP/1.1\r\nHost: lb\r\n\r\n");
  await Promise.all(Array.from({ length: Number(Deno.env.get("N") ?? 10) }, async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(req);
    const buf = new Uint8Array(4096);
    await conn.read(buf);
    conn.close();
  }));
  await new Promise((r) => setTimeout(r, 300));
  console.log("inflight", lb.pool.all()[0].inFlight);
  const t0 = performance.now();
  await lb.shutdown();
  console.log("lb shutdown", (performance.now() - t0).toFixed(0));
  await be.close();
});
