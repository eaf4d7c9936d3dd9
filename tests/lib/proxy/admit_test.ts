import assert from "node:assert/strict";
import { nodeRequest, scrape, startBackend, startLb, waitFor } from "../../_util/harness.ts";

/** A backend whose requests hang until released, in arrival order. */
function gatedBackend() {
  const gates: (() => void)[] = [];
  const be = startBackend(async (req) => {
    await new Promise<void>((r) => gates.push(r));
    return new Response(new URL(req.url).pathname);
  });
  return { be, gates };
}

Deno.test("admit() queues requests FIFO while every backend is at max_connections", async () => {
  const { be, gates } = gatedBackend();
  const lb2 = await startLbWithLimit(be.url, 2, "queue: {max: 2, timeout: 2s}\n");
  try {
    const queued = async () => (await scrape(lb2)).get(`lb_queued_requests{service="default"}`);
    const pending = [];
    for (const p of ["/1", "/2", "/3", "/4", "/5"]) {
      pending.push(nodeRequest(`${lb2.url}${p}`));
      // One at a time, so arrival order is the order sent.
      if (p <= "/2") await waitFor(() => gates.length === Number(p[1]), 2000, `${p} at the backend`);
      else if (p <= "/4") {
        await waitFor(async () => (await queued()) === Number(p[1]) - 2, 2000, `${p} queued`);
      }
    }
    const full = await pending[4];
    assert.equal(full.status, 503, "third waiter: queue full");
    assert.match(new TextDecoder().decode(full.body), /connection limit/);
    assert.equal((await scrape(lb2)).get(`lb_queued_requests{service="default"}`), 2);
    gates.shift()!();
    await waitFor(() => gates.length === 2 && be.seen.length === 3, 2000, "oldest waiter admitted");
    assert.equal(new URL(be.seen[2].url).pathname, "/3", "FIFO");
    while (be.seen.length < 4 || gates.length > 0) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 10));
    }
    const statuses = (await Promise.all(pending.slice(0, 4))).map((r) => r.status);
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    const m = await scrape(lb2);
    assert.equal(m.get('lb_queue_rejected_total{service="default",reason="full"}'), 1);
    assert.equal(m.get('lb_active_connections{service="default",backend="b0"}'), 0);
  } finally {
    for (const g of gates) g();
    await lb2.shutdown();
    await be.close();
  }
});

Deno.test("admit() answers 503 when a queued request waits longer than queue.timeout", async () => {
  const { be, gates } = gatedBackend();
  const lb = await startLbWithLimit(be.url, 1, "queue: {max: 10, timeout: 100ms}\n");
  try {
    const first = nodeRequest(`${lb.url}/hold`);
    await waitFor(() => gates.length === 1, 2000, "first request at the backend");
    const t0 = performance.now();
    const late = await nodeRequest(`${lb.url}/late`);
    assert.equal(late.status, 503);
    assert.ok(performance.now() - t0 >= 90);
    gates.shift()!();
    assert.equal((await first).status, 200);
    assert.equal((await scrape(lb)).get('lb_queue_rejected_total{service="default",reason="timeout"}'), 1);
  } finally {
    for (const g of gates) g();
    await lb.shutdown();
    await be.close();
  }
});

function startLbWithLimit(url: string, limit: number, extra: string) {
  return startLb([{ url, fields: `max_connections: ${limit}` }], extra);
}
