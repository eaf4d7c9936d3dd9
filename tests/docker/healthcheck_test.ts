import assert from "node:assert/strict";
import { probe } from "../../docker/healthcheck.ts";

const SCRIPT = new URL("../../docker/healthcheck.ts", import.meta.url).pathname;

/** Run the script as the images do: network to loopback only. */
async function run(url: string): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", SCRIPT, url],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  return { code: out.code, out: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr) };
}

Deno.test("healthcheck.ts exits 0 on 2xx, 1 on an error status or no listener, 2 on bad usage", async () => {
  let healthy = true;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(healthy ? "ok" : "down", { status: healthy ? 200 : 503 }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/healthz`;
  try {
    assert.deepEqual(await run(url), { code: 0, out: `${url}: 200 OK\n` });
    healthy = false;
    const down = await run(url);
    assert.equal(down.code, 1);
    assert.match(down.out, /503 Service Unavailable/);
  } finally {
    await server.shutdown();
  }
  const closed = await run(url);
  assert.equal(closed.code, 1);
  assert.match(closed.out, /Connection refused|error sending request/i);
  assert.equal((await run("not a url")).code, 2);
});

Deno.test("probe() gives up after its timeout", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn); // never answers
  })();
  try {
    const started = performance.now();
    const result = await probe(`http://127.0.0.1:${listener.addr.port}/`, 200);
    assert.deepEqual(result, { ok: false, detail: "no answer within 200 ms" });
    assert.ok(performance.now() - started < 2_000);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of accepted) conn.close();
  }
});
