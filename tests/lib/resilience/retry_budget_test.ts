import assert from "node:assert/strict";
import { RetryBudget } from "../../../lib/resilience/retry_budget.ts";

function budget(ratio: number, minPerSecond: number) {
  const clock = { t: 0 };
  const b = new RetryBudget({ ratio, minPerSecond, now: () => clock.t });
  return { b, clock };
}

function drain(b: RetryBudget, max = 10_000): number {
  let n = 0;
  while (n < max && b.tryRetry()) n++;
  return n;
}

Deno.test("RetryBudget.tryRetry() allows budget x requests over the window", () => {
  const { b } = budget(0.2, 0);
  for (let i = 0; i < 100; i++) b.recordRequest();
  assert.equal(drain(b), 20);
});

Deno.test("RetryBudget.tryRetry() allows min_per_second x 10 s with no traffic", () => {
  const { b } = budget(0.2, 10);
  assert.equal(drain(b), 100);
  const { b: none } = budget(0.2, 0);
  assert.equal(none.tryRetry(), false, "no requests and no floor: no retries");
});

Deno.test("RetryBudget.tryRetry() bounds a retry storm to the ratio plus the floor", () => {
  // 300 req/s for 10 s with every request wanting two retries: at most 20% + 100 are granted.
  const { b, clock } = budget(0.2, 10);
  let granted = 0;
  for (let ms = 0; ms < 10_000; ms += 10) {
    clock.t = ms;
    for (let i = 0; i < 3; i++) {
      b.recordRequest();
      if (b.tryRetry()) granted++;
      if (b.tryRetry()) granted++;
    }
  }
  assert.ok(granted <= 0.2 * 3000 + 100, `granted ${granted}`);
  assert.ok(granted >= 0.2 * 3000, `granted ${granted}: the budget must be usable`);
});

Deno.test("RetryBudget.tryRetry() forgets requests and retries older than the window", () => {
  const { b, clock } = budget(0.5, 0);
  for (let i = 0; i < 10; i++) b.recordRequest();
  assert.equal(drain(b), 5);
  clock.t = 5_000;
  assert.equal(b.tryRetry(), false, "still inside the window");
  clock.t = 10_500;
  assert.equal(b.tryRetry(), false, "deposits expired with their requests");
  for (let i = 0; i < 4; i++) b.recordRequest();
  assert.equal(drain(b), 2, "old withdrawals expired too");
});

Deno.test("RetryBudget.configure() changes the ratio and keeps the counts", () => {
  const { b } = budget(0.1, 0);
  for (let i = 0; i < 100; i++) b.recordRequest();
  assert.equal(drain(b), 10);
  b.configure(0.3, 0);
  assert.equal(drain(b), 20);
});
