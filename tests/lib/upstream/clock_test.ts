/**
 * The clock injected into the upstream client (`new UpstreamClient({ now })`) is the one its
 * response-header deadline (`timeouts.requestMs`) is judged by, not the wall clock.
 */
import assert from "node:assert/strict";
import { type Origin, UpstreamClient, type UpstreamFailure } from "../../../lib/upstream/mod.ts";
import { sleep } from "../../_util/load.ts";

/** A TCP backend that accepts and reads, and never answers; `arrived` resolves with the first bytes. */
function silentBackend() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const reads: Promise<unknown>[] = [];
  let received!: (text: string) => void;
  const arrived = new Promise<string>((r) => received = r);
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.push(conn);
        const buf = new Uint8Array(4096);
        // Read so the request is seen, then keep reading until the client closes: never answer.
        reads.push((async () => {
          try {
            while (true) {
              const n = await conn.read(buf);
              if (n === null) break;
              received(new TextDecoder().decode(buf.subarray(0, n)));
            }
          } catch { /* closed */ }
        })());
      }
    } catch { /* listener closed */ }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    origin: { hostname: "127.0.0.1", port, secure: false } satisfies Origin,
    arrived,
    get connections() {
      return conns.length;
    },
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed by the client */ }
      }
      await accepting;
      await Promise.all(reads);
    },
  };
}

Deno.test("UpstreamClient times out the response head by its injected clock, not the wall clock", async () => {
  let t = 10_000;
  const client = new UpstreamClient({ now: () => t });
  const backend = silentBackend();
  const requestMs = 200;
  try {
    let settled = false;
    let ended = 0;
    const sending = client.send(
      backend.origin,
      {
        method: "GET",
        target: "/hang",
        headers: ["host", "h"],
        body: null,
        signal: new AbortController().signal,
      },
      { connectMs: 1_000, requestMs },
      () => ended++,
    ).then((r) => {
      settled = true;
      return r;
    });
    assert.match(await backend.arrived, /^GET \/hang HTTP\/1\.1\r\n/, "the request reached the backend");
    // Fails if the response deadline is judged by performance.now: 3x requestMs of real time has
    // passed, so a wall-clock deadline would have resolved the send with a timeout by now.
    await sleep(3 * requestMs);
    assert.equal(settled, false, "no timeout while the injected clock stands still");

    t += requestMs + 800;
    // Fails if the client never re-reads its clock (or measures with another one): then the send
    // stays pending and this wait gives up after a second.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      sending,
      new Promise<"pending">((resolve) => timer = setTimeout(() => resolve("pending"), 1_000)),
    ]);
    clearTimeout(timer);
    assert.notEqual(r, "pending", "the send resolves within a second once the clock passed requestMs");
    const failure = r as UpstreamFailure;
    assert.equal(failure.ok, false);
    assert.equal(failure.kind, "timeout");
    assert.match(failure.message, new RegExp(`no response within ${requestMs}ms`));
    assert.equal(ended, 0, "onEnd is not called for a failure");
    assert.equal(backend.connections, 1, "one connection, not retried or replayed");
  } finally {
    client.close();
    await backend.close();
  }
});
