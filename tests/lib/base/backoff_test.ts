import assert from "node:assert/strict";
import { backoffDelay, sleep } from "../../../lib/base/backoff.ts";

Deno.test("backoffDelay() doubles from initialMs and stops at maxMs", () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(n)), [250, 500, 1000, 2000]);
  assert.equal(backoffDelay(8), 30_000);
  assert.equal(backoffDelay(5000), 30_000);
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n, { initialMs: 10, maxMs: 25 })), [10, 10, 20, 25]);
});

Deno.test("sleep() returns early when the signal aborts", async () => {
  const abort = new AbortController();
  const started = performance.now();
  const done = sleep(60_000, abort.signal);
  setTimeout(() => abort.abort(), 20);
  await done;
  assert.ok(performance.now() - started < 5_000);
  await sleep(60_000, abort.signal); // already aborted: immediate
});
