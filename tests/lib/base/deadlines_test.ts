/**
 * The one-timer deadline list. The clock is injected: the tests move it, so what expires does not
 * depend on how late a busy machine runs the timer (only when it does).
 */
import assert from "node:assert/strict";
import { Deadlines, type Expiring } from "../../../lib/base/deadlines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait, in bounded steps, until `done()`; fail after `ms`. */
async function until(done: () => boolean, ms = 5_000): Promise<void> {
  for (const start = performance.now(); !done(); await sleep(5)) {
    if (performance.now() - start > ms) throw new Error("timed out waiting");
  }
}

Deno.test("Deadlines expires each entry once its deadline passes, earliest first", async () => {
  let now = 0;
  const d = new Deadlines(() => now);
  const expired: string[] = [];
  d.add({ deadline: 60, expire: () => expired.push("late") });
  d.add({ deadline: 20, expire: () => expired.push("early") });
  now = 30;
  await until(() => expired.length > 0);
  await sleep(40); // the timer re-armed for the late entry fires, finds it not due yet
  assert.deepEqual(expired, ["early"]);
  assert.equal(d.size, 1);
  now = 61;
  await until(() => expired.length > 1);
  assert.deepEqual(expired, ["early", "late"]);
  assert.equal(d.size, 0);
});

Deno.test("Deadlines never expires a deleted entry and holds no timer once empty", async () => {
  let now = 0;
  const d = new Deadlines(() => now);
  let expired = 0;
  const a = { deadline: 20, expire: () => expired++ };
  const b = { deadline: 30, expire: () => expired++ };
  d.add(a);
  d.add(b);
  d.delete(a);
  now = 100;
  await until(() => expired > 0);
  await sleep(20);
  assert.equal(expired, 1, "only the entry still pending expired");
  d.add({ deadline: 10_100, expire: () => expired++ });
  d.clear();
  // The test sanitizer fails the test if the 10 s timer were still armed here.
  assert.equal(d.size, 0);
});

Deno.test("Deadlines re-arms for a new earliest deadline added after a later one", async () => {
  let now = 0;
  const d = new Deadlines(() => now);
  let expired = 0;
  d.add({ deadline: 5_000, expire: () => expired += 10 });
  d.add({ deadline: 10, expire: () => expired++ });
  now = 20;
  await until(() => expired > 0);
  assert.equal(expired, 1);
  d.clear();
});

Deno.test("Deadlines keeps its list exact under add/delete churn, re-adds and expiries that add", async () => {
  let now = 0;
  const d = new Deadlines(() => now);
  const expired = new Map<number, number>();
  const entries: Expiring[] = [];
  for (let i = 0; i < 200; i++) {
    const e: Expiring = { deadline: 10 + i / 100, expire: () => expired.set(i, (expired.get(i) ?? 0) + 1) };
    entries.push(e);
  }
  // Add all, delete every third, re-add (and re-add twice) some: each pending entry once.
  for (const e of entries) d.add(e);
  for (let i = 0; i < 200; i += 3) d.delete(entries[i]);
  for (let i = 0; i < 200; i += 6) d.add(entries[i]);
  for (let i = 0; i < 200; i += 6) d.add(entries[i]);
  d.delete({ deadline: 0, expire: () => {} }); // never added: a no-op
  const pending = entries.filter((_, i) => i % 3 !== 0 || i % 6 === 0);
  assert.equal(d.size, pending.length);
  // An expiry that adds a later entry: it is pending after the fire, and expires in a later one.
  let chained = 0;
  d.add({ deadline: 10, expire: () => d.add({ deadline: 2_010, expire: () => chained++ }) });
  now = 2_000;
  await until(() => d.size === 1);
  assert.equal(expired.size, pending.length);
  assert.ok([...expired.values()].every((n) => n === 1), "each entry expired exactly once");
  for (let i = 0; i < 200; i++) assert.equal(expired.has(i), i % 3 !== 0 || i % 6 === 0, `entry ${i}`);
  assert.ok(entries.every((e) => e.slot === -1), "expired entries are marked as not pending");
  now = 2_010;
  await until(() => chained === 1);
  assert.equal(d.size, 0);
});
