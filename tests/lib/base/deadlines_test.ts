import assert from "node:assert/strict";
import { Deadlines } from "../../../lib/base/deadlines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("Deadlines expires each entry once its deadline passes, earliest first", async () => {
  const d = new Deadlines();
  const expired: string[] = [];
  const t = performance.now();
  d.add({ deadline: t + 60, expire: () => expired.push("late") });
  d.add({ deadline: t + 20, expire: () => expired.push("early") });
  await sleep(40);
  assert.deepEqual(expired, ["early"]);
  await sleep(50);
  assert.deepEqual(expired, ["early", "late"]);
  assert.equal(d.size, 0);
});

Deno.test("Deadlines never expires a deleted entry and holds no timer once empty", async () => {
  const d = new Deadlines();
  let expired = 0;
  const t = performance.now();
  const a = { deadline: t + 20, expire: () => expired++ };
  const b = { deadline: t + 30, expire: () => expired++ };
  d.add(a);
  d.add(b);
  d.delete(a);
  await sleep(50);
  assert.equal(expired, 1, "only the entry still pending expired");
  d.add({ deadline: performance.now() + 10_000, expire: () => expired++ });
  d.clear();
  // The test sanitizer fails the test if the 10 s timer were still armed here.
  assert.equal(d.size, 0);
});

Deno.test("Deadlines re-arms for a new earliest deadline added after a later one", async () => {
  const d = new Deadlines();
  let expired = 0;
  d.add({ deadline: performance.now() + 5_000, expire: () => expired += 10 });
  d.add({ deadline: performance.now() + 10, expire: () => expired++ });
  await sleep(40);
  assert.equal(expired, 1);
  d.clear();
});
