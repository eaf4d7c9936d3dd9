/**
 * One attempt is settled once: a response whose head was good but whose body broke is one
 * failure of that backend (one upstream error, one passive-health failure, one duration) and one
 * counted request, however its end is noticed.
 */
import assert from "node:assert/strict";
import { scrape, startLb, waitFor } from "../../_util/harness.ts";
import { startRawBackend } from "../../_util/raw_backend.ts";
import { octets, RawConn } from "../../_util/raw_http.ts";
import { sleep } from "../../_util/load.ts";

/** Every series of `name` whose labels include `label`, summed. */
function total(m: Map<string, number>, name: string, label: string): number {
  let sum = 0;
  for (const [series, value] of m) if (series.startsWith(`${name}{`) && series.includes(label)) sum += value;
  return sum;
}

const B0 = 'backend="b0"';

Deno.test("proxy settles an attempt whose body is cut after a good head exactly once", async () => {
  // A good head (200, 100 bytes announced), 10 body bytes, then the connection closes.
  const backend = startRawBackend(async (_head, conn) => {
    await conn.write(octets("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"));
    conn.close();
  });
  // Two consecutive failures eject: one failure counted twice would eject the only backend
  // (max_ejected_percent 100 allows it), which lb_ejections_total and the state would show.
  const lb = await startLb(
    [backend.url],
    "passive: {consecutive_failures: 2, base_ejection: 30s, max_ejected_percent: 100}",
  );
  const conn = await RawConn.open(lb.proxyAddr.port);
  try {
    await conn.write("GET /cut HTTP/1.1\r\nHost: t\r\n\r\n");
    const got = await conn.readToEnd(3_000);
    const end = got.indexOf("\r\n\r\n");
    assert.match(got, /^HTTP\/1\.1 200 /, "the good head is relayed");
    assert.match(got.slice(0, end + 2), /\r\ncontent-length: 100\r\n/i);
    assert.equal(got.slice(end + 4), "0123456789", "the client gets the 10 bytes, then the close");

    // The attempt settles when the proxy notices the body's end, after the client saw the close.
    await waitFor(
      async () => total(await scrape(lb), "lb_request_duration_seconds_count", B0) >= 1,
      3_000,
      "the attempt to settle",
    );
    await sleep(200); // room for a second, late settle to show up
    const m = await scrape(lb);
    // Each of these fails at 0 (the cut body never settled, or was taken as a success) and at 2
    // (settled twice: once by the body's end and again by the response's or the client's).
    assert.equal(m.get(`lb_upstream_errors_total{service="default",${B0},kind="reset"}`), 1);
    assert.equal(total(m, "lb_upstream_errors_total", B0), 1, "no other kind counted besides reset");
    assert.equal(total(m, "lb_request_duration_seconds_count", B0), 1, "one duration observed");
    assert.equal(
      m.get(
        `lb_requests_total{service="default",${B0},strategy="round_robin",method="GET",code="200",protocol="http/1.1"}`,
      ),
      1,
      "counted once, with the status the client got",
    );
    assert.equal(total(m, "lb_requests_total", B0), 1, "no other series counted it");
    assert.equal(total(m, "lb_retries_total", B0), 0, "a relayed response is not retried");
    assert.equal(m.get(`lb_ejections_total{service="default",${B0}}`), 0, "one failure does not eject");
    assert.equal(m.get(`lb_backend_state{service="default",${B0},state="ejected"}`), 0);
    assert.equal(m.get(`lb_active_connections{service="default",${B0}}`), 0, "the in-flight slot is freed");
    assert.equal(backend.heads.length, 1, "one attempt reached the backend");

    // Passive health and the balancer's counts, as the admin API shows them.
    const views: { name: string; requests: number; errors: number; consecutive_failures: number }[] =
      await (await fetch(`${lb.adminUrl}/api/backends`)).json();
    const b0 = views.find((v) => v.name === "b0");
    assert.ok(b0, "b0 is listed");
    assert.equal(b0.consecutive_failures, 1, "one passive-health failure");
    assert.equal(b0.requests, 1, "one attempt released");
    assert.equal(b0.errors, 1, "released as a failure");
    assert.equal(lb.outliers.status(lb.pool.get("b0")!).consecutiveFailures, 1);

    // A second cut response is the second failure in a row and ejects b0: the passive-health
    // config above does tell one failure from two, so the checks of 0 ejections above can fail.
    const again = await RawConn.open(lb.proxyAddr.port);
    try {
      await again.write("GET /cut HTTP/1.1\r\nHost: t\r\n\r\n");
      assert.match(await again.readToEnd(3_000), /^HTTP\/1\.1 200 /);
    } finally {
      await again.close();
    }
    await waitFor(
      async () => (await scrape(lb)).get(`lb_ejections_total{service="default",${B0}}`) === 1,
      3_000,
      "the second failure to eject b0",
    );
    const after = await scrape(lb);
    assert.equal(after.get(`lb_upstream_errors_total{service="default",${B0},kind="reset"}`), 2);
    assert.equal(total(after, "lb_requests_total", B0), 2);
  } finally {
    await conn.close();
    await lb.shutdown();
    await backend.close();
  }
});
