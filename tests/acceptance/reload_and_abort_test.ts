/**
 * Acceptance: config reloads under load, and clients that abort mid-response.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/config.ts";
import { scrape, startBackend, startLb, waitFor } from "../_util/harness.ts";
import { runLoad } from "../_util/rate_load.ts";

Deno.test("proxy keeps serving through a broken and a shrinking reload under load, finishing removed backends' requests", async () => {
  // Every response takes 50 ms, so each backend always has requests in flight.
  const slow = () => new Promise<Response>((r) => setTimeout(() => r(new Response("ok")), 50));
  const backends = [0, 1, 2].map(() => startBackend(slow));
  const dir = await Deno.makeTempDir();
  const path = `${dir}/lb.yml`;
  const health = "health_check: {interval: 200ms, timeout: 5s, healthy_threshold: 1, unhealthy_threshold: 2}";
  const file = (n: number) =>
    `${health}\nbackends:\n${
      backends.slice(0, n).map((b, i) => `  - {name: b${i}, url: "${b.url}"}`).join("\n")
    }\n`;
  await Deno.writeTextFile(path, file(3));
  const lb = await startLb(backends.map((b) => b.url), "", {
    configSource: () => loadConfig(path, () => undefined),
  });
  const reloads: { status: number; body: Record<string, unknown> }[] = [];
  let b2InFlightAtRemoval = -1;
  const reload = async () => {
    const r = await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" });
    reloads.push({ status: r.status, body: await r.json() });
  };
  try {
    let step = 0;
    const result = await runLoad(lb.url, {
      rate: 300,
      durationMs: 4000,
      onTick: async (t) => {
        if (step === 0 && t > 1000) {
          step++;
          await Deno.writeTextFile(path, "backends: [ {url: http://x\n"); // syntax error
          await reload();
        } else if (step === 1 && t > 2000) {
          step++;
          await Deno.writeTextFile(path, file(2)); // b2 removed
          b2InFlightAtRemoval = lb.pool.get("b2")!.inFlight;
          await reload();
        }
      },
    });
    assert.deepEqual(result.failures, [], `${result.failures.length} of ${result.sent} failed`);
    assert.equal(reloads[0].status, 422);
    assert.equal(reloads[1].status, 200);
    assert.deepEqual(reloads[1].body.removed, ["b2"]);
    assert.ok(b2InFlightAtRemoval > 0, "the removed backend had requests in flight");
    const m = await scrape(lb);
    assert.equal(m.get('lb_config_reloads_total{result="failure"}'), 1);
    assert.equal(m.get('lb_config_reloads_total{result="success"}'), 1);
    assert.equal(
      m.get('lb_active_connections{service="default",backend="b2"}'),
      undefined,
      "b2 drained and gone",
    );
    assert.equal(lb.pool.retiring().length, 0);
    console.log(`sent ${result.sent}, failed 0, b2 had ${b2InFlightAtRemoval} in flight when removed`);
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("proxy returns lb_active_connections to 0 after 1,000 clients abort mid-response", async () => {
  // An endless response: each client reads its first bytes, then slams the connection shut.
  const backends = [0, 1, 2].map(() =>
    startBackend(() => {
      const chunk = new Uint8Array(1024).fill(120);
      return new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(chunk);
          },
          async pull(c) {
            await new Promise((r) => setTimeout(r, 20));
            c.enqueue(chunk);
          },
        }),
      );
    })
  );
  const lb = await startLb(backends.map((b) => b.url));
  const request = new TextEncoder().encode("GET /stream HTTP/1.1\r\nHost: lb\r\n\r\n");
  let gotBody = 0;
  const client = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: lb.proxyAddr.port });
    try {
      await conn.write(request);
      const buf = new Uint8Array(4096);
      let seen = "";
      const deadline = setTimeout(() => conn.close(), 5000);
      while (!seen.includes("xxxx")) {
        const n = await conn.read(buf);
        if (n === null) break;
        seen += new TextDecoder().decode(buf.subarray(0, n));
      }
      clearTimeout(deadline);
      if (seen.startsWith("HTTP/1.1 200") && seen.includes("xxxx")) gotBody++;
    } finally {
      try {
        conn.close();
      } catch { /* closed by the deadline */ }
    }
  };
  try {
    for (let batch = 0; batch < 10; batch++) await Promise.all(Array.from({ length: 100 }, client));
    assert.equal(gotBody, 1000, "every client was mid-response when it left");
    await waitFor(
      async () => {
        const m = await scrape(lb);
        return [0, 1, 2].every((i) =>
          m.get(`lb_active_connections{service="default",backend="b${i}"}`) === 0
        );
      },
      5000,
      "every backend's active connections back to 0",
    );
    for (const b of lb.pool.all()) assert.equal(b.inFlight, 0);
    const m = await scrape(lb);
    const total = [0, 1, 2].reduce(
      (n, i) =>
        n +
        (m.get(
          `lb_requests_total{service="default",backend="b${i}",strategy="round_robin",method="GET",code="200",protocol="http/1.1"}`,
        ) ?? 0),
      0,
    );
    assert.equal(total, 1000);
    const still = await fetch(lb.url + "/");
    assert.equal(still.status, 200, "still serving");
    await still.body?.cancel(); // the stream is endless: leave it, or shutdown would wait for it
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});
