import assert from "node:assert/strict";
import { HedgeBudget } from "../../../lib/resilience/hedge_budget.ts";

function drain(b: HedgeBudget, max = 10_000): number {
  let n = 0;
  while (n < max && b.tryHedge()) n++;
  return n;
}

Deno.test("HedgeBudget.tryHedge() allows max_ratio x requests, with no floor at low traffic", () => {
  const clock = { t: 0 };
  const b = new HedgeBudget({ maxRatio: 0.05, now: () => clock.t });
  assert.equal(b.tryHedge(), false, "no requests: no hedges, unlike the retry budget's floor");
  for (let i = 0; i < 19; i++) b.recordRequest();
  assert.equal(b.tryHedge(), false, "19 requests earn 0.95 of a hedge");
  b.recordRequest();
  assert.equal(drain(b), 1);
  for (let i = 0; i < 980; i++) b.recordRequest();
  assert.equal(drain(b), 49, "1,000 requests: 50 hedges in all");
});

Deno.test("HedgeBudget forgets requests and hedges older than its window; configure() keeps counts", () => {
  const clock = { t: 0 };
  const b = new HedgeBudget({ maxRatio: 0.1, now: () => clock.t });
  for (let i = 0; i < 100; i++) b.recordRequest();
  assert.equal(drain(b), 10);
  clock.t = 10_500;
  assert.equal(b.tryHedge(), false, "the requests that paid for them left the window");
  for (let i = 0; i < 100; i++) b.recordRequest();
  b.configure(0.3);
  assert.equal(drain(b), 30);
});
