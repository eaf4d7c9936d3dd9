import assert from "node:assert/strict";
import { parseDemoArgs } from "../../demo/demo_config.ts";
import { parseMetrics, waitFor } from "../_util/harness.ts";
import { freePort } from "../_util/prometheus.ts";
import { taskPermissions } from "../_util/task.ts";

const DEMO = new URL("../../demo/demo.ts", import.meta.url).pathname;

/** True when nothing listens on `port` any more: it can be bound again. */
function released(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("deno task demo serves through the proxy at once, moves under --load and stops cleanly on SIGINT", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...await taskPermissions("demo"), DEMO, "--admin-port", "0", "--load", "--rate", "40"],
    env: { LB_DEMO_PORT: String(port), LB_DEMO_STRATEGY: "peak_ewma" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!out.includes("Ctrl-C stops everything.")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`demo exited early:\n${out}\n${await stderr}`);
      out += value;
    }
    assert.match(out, /strategy peak_ewma, background load 40 req\/s/);
    const proxy = /proxy +(http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out);
    const status = /status page +(http:\/\/127\.0\.0\.1:(\d+))\//.exec(out);
    assert.ok(proxy && status, out);
    assert.equal(Number(proxy[2]), port, "LB_DEMO_PORT is the proxy port");
    const backendPorts = [...out.matchAll(/ (fast-1|fast-2|slow|flaky) +http:\/\/127\.0\.0\.1:(\d+)/g)];
    assert.equal(backendPorts.length, 4, out);
    assert.match(out, new RegExp(`curl -i ${proxy[1]}`));

    // The first request after the banner is answered by a backend: the first health round is done.
    const first = await fetch(proxy[1]);
    assert.equal(first.status, 200);
    assert.match(first.headers.get("x-lb-backend") ?? "", /^(fast-1|fast-2|slow|flaky)$/);
    assert.equal((await first.json()).backend, first.headers.get("x-lb-backend"));

    const page = await fetch(`${status[1]}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await page.text(), /<html/i);

    // The background load shows in the metrics without any request of ours.
    await waitFor(
      async () => {
        const metrics = parseMetrics(await (await fetch(`${status[1]}/metrics`)).text());
        const total = [...metrics].filter(([k]) => k.startsWith("lb_requests_total{")).reduce(
          (n, [, v]) => n + v,
          0,
        );
        return total >= 20;
      },
      8_000,
      "background load in lb_requests_total",
    );

    child.kill("SIGINT");
    const { code } = await child.status;
    assert.equal(code, 0, await stderr);
    for (const p of [port, Number(status[2]), ...backendPorts.map((m) => Number(m[2]))]) {
      assert.ok(released(p), `port ${p} is released`);
    }
    assert.match(await stderr, /stopping: load, proxy, backends/);
  } finally {
    try {
      child.kill();
    } catch { /* exited */ }
    await lines.cancel().catch(() => {});
    await stderr.catch(() => {});
  }
});

/**
 * Read `reader` until the text read so far matches `until` (or, without `until`, to the end);
 * throws if the stream ends before the match.
 */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  until: RegExp | undefined,
  seen = "",
): Promise<string> {
  while (!until?.test(seen)) {
    const { value, done } = await reader.read();
    if (done && until === undefined) return seen;
    if (done) throw new Error(`stream ended before ${until}:\n${seen}`);
    seen += value;
  }
  return seen;
}

Deno.test("deno task demo finishes stopping when a second SIGINT comes (one Ctrl-C under deno task sends two)", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...await taskPermissions("demo"), DEMO, "--port", "0", "--admin-port", "0"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const err = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let response: Response | undefined;
  try {
    const banner = await readUntil(out, /Ctrl-C stops everything\./);
    const proxy = /proxy +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(banner)![1];
    // An unread stream keeps the proxy's shutdown waiting for its in-flight request; a few tries,
    // because the flaky backend answers some requests with a (short, finished) 500.
    for (let i = 0; i < 10 && response?.status !== 200; i++) {
      await response?.body?.cancel();
      response = await fetch(`${proxy}bytes?n=${32 << 20}`);
    }
    assert.equal(response!.status, 200);
    child.kill("SIGINT");
    let log = await readUntil(err, /stopping: load, proxy, backends/);
    child.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 300));
    await response!.body!.cancel();
    response = undefined;
    const status = await child.status;
    log = await readUntil(err, undefined, log);
    assert.deepEqual([status.code, status.signal], [0, null], log);
    assert.equal(log.match(/stopping:/g)?.length, 1, "the second SIGINT starts no second shutdown");
  } finally {
    await response?.body?.cancel();
    try {
      child.kill();
    } catch { /* exited */ }
    await out.cancel().catch(() => {});
    await err.cancel().catch(() => {});
  }
});

Deno.test("deno task demo exits 1 with advice when the proxy port is taken", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...await taskPermissions("demo"),
        DEMO,
        "--port",
        String(taken.addr.port),
        "--admin-port",
        "0",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 1);
    assert.match(
      new TextDecoder().decode(output.stderr),
      /Cannot start the demo on 127\.0\.0\.1:\d+.*\n.*--port/,
    );
  } finally {
    taken.close();
  }
});

Deno.test("parseDemoArgs() reads flags over LB_DEMO_* variables and reports every bad value", () => {
  const env = (name: string) => ({ LB_DEMO_PORT: "9090", LB_DEMO_STRATEGY: "LeastConnections" })[name];
  const parsed = parseDemoArgs(["--admin-port", "9091", "--load"], env);
  assert.deepEqual(parsed, {
    ok: true,
    value: { port: 9090, adminPort: 9091, strategy: "least_connections", load: true, rate: 100 },
  });
  const bad = parseDemoArgs(["--port", "70000", "--strategy", "fastest", "--rate", "0"], () => undefined);
  assert.ok(!bad.ok);
  assert.equal(bad.errors.length, 3);
  const all = bad.errors.join("\n");
  assert.match(all, /--port: expected an integer in \[0, 65535\], got "70000"/);
  assert.match(all, /--strategy: unknown "fastest"; known: round_robin/);
  assert.match(all, /--rate: expected a number in \[1, 2000\], got "0"/);
  const same = parseDemoArgs(["--port", "8080", "--admin-port", "8080"], () => undefined);
  assert.ok(!same.ok && /must differ/.test(same.errors[0]));
});
