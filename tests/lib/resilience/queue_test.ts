import assert from "node:assert/strict";
import { WaitQueue } from "../../../lib/resilience/queue.ts";

Deno.test("WaitQueue.wakeOne() wakes waiters oldest first", async () => {
  const q = new WaitQueue(10);
  const order: number[] = [];
  const waits = [0, 1, 2].map((i) =>
    q.wait(new AbortController().signal, 5000).then((o) => {
      order.push(i);
      return o;
    })
  );
  assert.equal(q.length, 3);
  q.wakeOne();
  q.wakeOne();
  q.wakeOne();
  assert.deepEqual(await Promise.all(waits), ["ready", "ready", "ready"]);
  assert.deepEqual(order, [0, 1, 2]);
  assert.equal(q.wakeOne(), false);
});

Deno.test("WaitQueue.wait() answers full beyond max, times out, and leaves on abort", async () => {
  const q = new WaitQueue(1);
  const ac = new AbortController();
  const first = q.wait(ac.signal, 5000);
  assert.equal(await q.wait(new AbortController().signal, 5000), "full");
  ac.abort();
  assert.equal(await first, "aborted");
  assert.equal(q.length, 0);
  const t0 = performance.now();
  assert.equal(await q.wait(new AbortController().signal, 30), "timeout");
  assert.ok(performance.now() - t0 >= 25);
  assert.equal(q.length, 0);
});

Deno.test("WaitQueue.wait() with front re-queues at the head even when full", async () => {
  const q = new WaitQueue(1);
  const signal = new AbortController().signal;
  const a = q.wait(signal, 5000);
  const b = q.wait(signal, 5000, true);
  q.wakeOne();
  assert.equal(await b, "ready");
  q.clear();
  assert.equal(await a, "timeout");
});
