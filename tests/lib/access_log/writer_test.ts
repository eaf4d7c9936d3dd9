import assert from "node:assert/strict";
import { LineWriter, type Sink } from "../../../lib/access_log/mod.ts";

/** A sink that records writes; `stall()` makes writes wait until `release()`. */
function recordingSink() {
  const writes: string[] = [];
  let gate: Promise<void> | undefined;
  let open: () => void = () => {};
  let fail = false;
  const sink: Sink & { closed: boolean } = {
    closed: false,
    async write(p) {
      if (gate) await gate;
      if (fail) throw new Error("disk full");
      // Short writes: at most 100 bytes at a time, so the writer must loop.
      const n = Math.min(p.length, 100);
      writes.push(new TextDecoder().decode(p.subarray(0, n)));
      return n;
    },
    close() {
      sink.closed = true;
    },
  };
  return {
    sink,
    writes,
    text: () => writes.join(""),
    stall: () => gate = new Promise((r) => open = r),
    release: () => (gate = undefined, open()),
    failing: (on: boolean) => fail = on,
  };
}

function counters() {
  const dropped = { buffer_full: 0, write_error: 0 };
  const errors: string[] = [];
  return {
    dropped,
    errors,
    onDrop: (n: number, reason: "buffer_full" | "write_error") => dropped[reason] += n,
    onError: (e: Error) => errors.push(e.message),
  };
}

Deno.test("LineWriter batches lines into few writes and loops over short writes", async () => {
  const s = recordingSink();
  const c = counters();
  const w = new LineWriter(s.sink, { ...c, flushMs: 10_000 });
  for (let i = 0; i < 500; i++) w.push(`line ${i}`);
  assert.equal(s.writes.length, 0, "nothing written synchronously");
  await w.flush();
  assert.equal(s.text(), Array.from({ length: 500 }, (_, i) => `line ${i}\n`).join(""));
  // 500 lines of ~8 bytes in 100-byte short writes: one batch, so about 4.4 KB / 100 writes, not 500 batches.
  assert.ok(s.writes.length <= Math.ceil(s.text().length / 100), String(s.writes.length));
  await w.close();
  assert.ok(s.sink.closed);
});

Deno.test("LineWriter writes a batch by itself after flushMs", async () => {
  const s = recordingSink();
  const w = new LineWriter(s.sink, { ...counters(), flushMs: 20 });
  w.push("a");
  w.push("b");
  assert.equal(s.text(), "");
  // No flush call: the timer writes it (waited for up to 5 s, a loaded machine may delay timers).
  for (let i = 0; i < 500 && s.text() === ""; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.text(), "a\nb\n");
  await w.close();
});

Deno.test("LineWriter never holds more than maxBufferBytes while the sink stalls; drops are counted", async () => {
  const s = recordingSink();
  const c = counters();
  const w = new LineWriter(s.sink, { ...c, maxBufferBytes: 1000, flushBytes: 100, flushMs: 5 });
  s.stall();
  const line = "x".repeat(49); // 50 bytes with its newline
  for (let i = 0; i < 2; i++) w.push(line); // 100 bytes: a write starts and stalls
  await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < 100; i++) w.push(line);
  assert.equal(
    c.dropped.buffer_full,
    80,
    "1000 bytes queued (20 lines) behind the stalled write, 80 dropped",
  );
  s.release();
  await w.flush();
  assert.equal(s.text().split("\n").length - 1, 22);
  await w.close();
});

Deno.test("LineWriter counts lines lost to a failing write, reports once, and recovers", async () => {
  const s = recordingSink();
  const c = counters();
  const w = new LineWriter(s.sink, { ...c, flushMs: 5 });
  s.failing(true);
  w.push("a");
  w.push("b");
  await w.flush();
  w.push("c");
  await w.flush();
  assert.deepEqual(c.dropped, { buffer_full: 0, write_error: 3 });
  assert.deepEqual(c.errors, ["disk full"], "one report per failure streak");
  s.failing(false);
  w.push("d");
  await w.flush();
  assert.equal(s.text(), "d\n");
  await w.close();
});

Deno.test("LineWriter.replace flushes to the old sink, closes it, then writes to the new one", async () => {
  const a = recordingSink();
  const b = recordingSink();
  const w = new LineWriter(a.sink, { ...counters(), flushMs: 10_000 });
  w.push("old");
  await w.replace(b.sink);
  w.push("new");
  await w.close();
  assert.equal(a.text(), "old\n");
  assert.ok(a.sink.closed);
  assert.equal(b.text(), "new\n");
});

Deno.test("LineWriter: lines queued during a write wait for a full batch or flushMs, not for that write's end", async () => {
  // Under load a write is nearly always in flight; writing what came in during it as soon as it
  // ended made one write of a line or two per request. Fails if the second write starts with only
  // the two short lines queued.
  const s = recordingSink();
  const c = counters();
  const w = new LineWriter(s.sink, { ...c, flushBytes: 50, flushMs: 10_000 });
  s.stall();
  w.push("x".repeat(60)); // a full batch: its write starts and stalls
  await new Promise((r) => setTimeout(r, 0));
  w.push("a");
  w.push("b");
  s.release();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.text(), `${"x".repeat(60)}\n`, "the two short lines wait");
  w.push("y".repeat(50)); // now a full batch again
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.text(), `${"x".repeat(60)}\na\nb\n${"y".repeat(50)}\n`);
  w.push("z");
  await w.flush(); // flush writes a partial batch
  assert.ok(s.text().endsWith("z\n"));
  await w.close();
});
