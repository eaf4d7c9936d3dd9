import assert from "node:assert/strict";
import { startBackend, startLb } from "../../_util/harness.ts";

const MiB = 1 << 20;

/** A stream of `total` bytes made of one reused 64 KiB chunk, so the source allocates nothing. */
function zeros(total: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      const n = Math.min(chunk.length, total - sent);
      if (n === 0) return c.close();
      c.enqueue(n === chunk.length ? chunk.slice() : chunk.slice(0, n));
      sent += n;
    },
  });
}

async function drain(body: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of body) n += c.length;
  return n;
}

Deno.test("proxy streams the response: the first chunk arrives before the backend finishes", async () => {
  let finish!: () => void;
  const done = new Promise<void>((r) => finish = r);
  const be = startBackend(() =>
    new Response(
      new ReadableStream({
        async start(c) {
          c.enqueue(new TextEncoder().encode("first\n"));
          await done;
          c.enqueue(new TextEncoder().encode("second\n"));
          c.close();
        },
      }),
    )
  );
  const lb = await startLb([be.url]);
  try {
    const r = await fetch(`${lb.url}/stream`);
    const reader = r.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first\n");
    finish();
    let rest = "";
    for (let x = await reader.read(); !x.done; x = await reader.read()) {
      rest += new TextDecoder().decode(x.value);
    }
    assert.equal(rest, "second\n");
  } finally {
    finish();
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy streams the request body: the backend reads the start before the client ends", async () => {
  let firstSeen!: () => void;
  const seenFirst = new Promise<void>((r) => firstSeen = r);
  const be = startBackend(async (req) => {
    const reader = req.body!.getReader();
    const first = await reader.read();
    firstSeen();
    let total = first.value?.length ?? 0;
    for (let x = await reader.read(); !x.done; x = await reader.read()) total += x.value.length;
    return new Response(String(total));
  });
  const lb = await startLb([be.url]);
  try {
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(new Uint8Array(1000));
        await gate;
        c.enqueue(new Uint8Array(500));
        c.close();
      },
    });
    const pending = fetch(`${lb.url}/upload`, { method: "POST", body });
    await seenFirst; // would deadlock if the proxy buffered the whole body
    release();
    assert.equal(await (await pending).text(), "1500");
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy moves 1 GiB each way with flat memory", async () => {
  const size = 1024 * MiB;
  const warmUp = 64 * MiB;
  const be = startBackend(async (req) => {
    if (req.method === "POST") return new Response(String(await drain(req.body!)));
    const n = Number(new URL(req.url).searchParams.get("bytes") ?? size);
    return new Response(zeros(n), { headers: { "content-length": String(n) } });
  });
  const lb = await startLb([be.url]);
  try {
    // Warm up both directions with a sixteenth of the load, enough for lazily allocated pools and
    // the heap's first growth not to count as growth.
    assert.equal(await drain((await fetch(`${lb.url}/warm?bytes=${warmUp}`)).body!), warmUp);
    assert.equal(
      await (await fetch(`${lb.url}/warm`, { method: "POST", body: zeros(warmUp) })).text(),
      String(warmUp),
    );
    const before = Deno.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 50);
    const down = await fetch(`${lb.url}/big`);
    assert.equal(down.headers.get("content-length"), String(size));
    assert.equal(await drain(down.body!), size);
    const up = await fetch(`${lb.url}/big`, { method: "POST", body: zeros(size) });
    assert.equal(await up.text(), String(size));
    clearInterval(sampler);
    const growth = (peak - before) / MiB;
    console.log(
      `RSS growth while moving 2 GiB, after ${
        2 * warmUp / MiB
      } MiB of warm-up (client, proxy and backend in one process): ${growth.toFixed(1)} MiB`,
    );
    assert.ok(growth < 200, `RSS grew by ${growth.toFixed(1)} MiB: the body was buffered somewhere`);
  } finally {
    await lb.shutdown();
    await be.close();
  }
});
