import { equal, rejects, throws } from "node:assert/strict";
import { createSemaphore } from "../../../demo/shared/semaphore.ts";

Deno.test("createSemaphore() lets at most `permits` holders in and wakes waiters in arrival order", async () => {
  const slots = createSemaphore(2);
  const order: number[] = [];
  await slots.acquire();
  await slots.acquire();
  const waiters = [1, 2, 3].map((i) => slots.acquire().then(() => order.push(i)));
  equal(slots.active, 2);
  equal(slots.waiting, 3);
  slots.release();
  slots.release();
  slots.release();
  await Promise.all(waiters);
  equal(order.join(","), "1,2,3");
  equal(slots.active, 2);
  equal(slots.waiting, 0);
});

Deno.test("createSemaphore() drops an aborted waiter without consuming a permit", async () => {
  const slots = createSemaphore(1);
  await slots.acquire();
  const abort = new AbortController();
  const aborted = slots.acquire(abort.signal);
  const next = slots.acquire();
  abort.abort(new Error("gave up"));
  await rejects(aborted, /gave up/);
  slots.release();
  await next;
  equal(slots.active, 1);
  slots.release();
  equal(slots.active, 0);
});

Deno.test("createSemaphore() accepts Infinity and rejects bad permit counts", async () => {
  const unlimited = createSemaphore(Infinity);
  for (let i = 0; i < 1000; i++) await unlimited.acquire();
  equal(unlimited.active, 1000);
  for (const bad of [0, -1, 1.5, NaN]) throws(() => createSemaphore(bad), RangeError);
});

Deno.test("createSemaphore() tryAcquire() takes only a free permit and never queues", async () => {
  const slots = createSemaphore(1);
  equal(slots.tryAcquire(), true);
  equal(slots.tryAcquire(), false);
  equal(slots.waiting, 0);
  const next = slots.acquire();
  slots.release();
  await next;
  equal(slots.tryAcquire(), false);
  slots.release();
  equal(slots.tryAcquire(), true);
});
