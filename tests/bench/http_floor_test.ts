/**
 * The HTTP-floor yardstick (tools/bench/http_floor.ts) as a subprocess in front of a tiny
 * `Deno.serve` backend: keep-alive requests, a request body framed by content-length, a body
 * larger than its buffers, and the fields it rewrites.
 */
import assert from "node:assert/strict";
import { freePort, waitForPort } from "../../tools/bench/procs.ts";

const SCRIPT = new URL("../../tools/bench/http_floor.ts", import.meta.url).pathname;
/** Larger than the floor's 16 KiB read and 64 KiB write buffers, so bodies cross several reads. */
const BIG = 100_000;

/** What the backend saw of one request. */
interface Seen {
  readonly method: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
  /** The port of the connection it came on (the floor's backend connection). */
  readonly port: number;
}

Deno.test("http_floor.ts forwards keep-alive requests and bodies, rewriting hop-by-hop fields", async () => {
  const seen: Seen[] = [];
  const big = new Uint8Array(BIG).map((_, i) => i % 251);
  const backend = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req, info) => {
    const body = new Uint8Array(await req.arrayBuffer());
    seen.push({ method: req.method, headers: req.headers, body, port: info.remoteAddr.port });
    return new URL(req.url).pathname === "/big" ? new Response(big) : new Response("hello\n");
  });
  const port = freePort();
  const floor = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", SCRIPT, String(port), String(backend.addr.port)],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const client = Deno.createHttpClient({});
  try {
    await waitForPort(port);
    const url = `http://127.0.0.1:${port}`;
    const hop = { connection: "keep-alive, x-hop", "keep-alive": "timeout=5" };

    // Control: the backend does see these fields when nothing is in between.
    const control = await fetch(`http://127.0.0.1:${backend.addr.port}/`, { client, headers: hop });
    assert.equal(await control.text(), "hello\n");
    assert.ok(seen[0].headers.has("connection"), "the backend shows a client's connection field");
    seen.length = 0;

    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${url}/${i}`, { client, headers: hop });
      assert.equal(r.status, 200);
      assert.equal(await r.text(), "hello\n");
    }
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen.map((s) => s.port)).size, 1, "one backend connection: keep-alive held");
    for (const s of seen) {
      assert.equal(s.headers.get("x-forwarded-for"), "127.0.0.1");
      assert.equal(s.headers.get("connection"), null, "connection is not forwarded");
      assert.equal(s.headers.get("keep-alive"), null, "keep-alive is not forwarded");
    }

    const sent = new TextEncoder().encode("a request body of known length\n".repeat(1000));
    const post = await fetch(`${url}/post`, { client, method: "POST", body: sent });
    assert.equal(post.status, 200);
    assert.equal(await post.text(), "hello\n");
    const got = seen[3];
    assert.equal(got.method, "POST");
    assert.equal(got.headers.get("content-length"), String(sent.length));
    assert.deepEqual(got.body, sent, "the body reaches the backend intact");

    const r = await fetch(`${url}/big`, { client });
    assert.equal(r.headers.get("content-length"), String(BIG));
    assert.deepEqual(new Uint8Array(await r.arrayBuffer()), big, "a large response body arrives intact");
    const after = await fetch(`${url}/after`, { client });
    assert.equal(await after.text(), "hello\n", "the connection is still usable after it");
    assert.equal(new Set(seen.map((s) => s.port)).size, 1, "all of it on one connection");
  } finally {
    client.close();
    floor.kill("SIGTERM");
    await floor.status;
    await backend.shutdown();
  }
});

Deno.test("http_floor.ts exits 2 with a usage line on bad arguments", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", SCRIPT, "8080"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /^usage: http_floor\.ts LISTEN_PORT BACKEND_PORT/);
});
