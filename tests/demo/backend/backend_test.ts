import { deepEqual, equal, match, ok } from "node:assert/strict";
import { startBackend } from "../../../demo/backend/backend.ts";
import type { BackendOptions } from "../../../demo/backend/config.ts";
import { quantile } from "../../_util/stats.ts";
import { closed, nextMessage, openClient } from "../../_util/ws.ts";

/** Run `fn` against a backend on loopback and always close it. */
async function withBackend(options: Partial<BackendOptions>, fn: (url: string) => Promise<void>) {
  const backend = startBackend({ port: 0, host: "127.0.0.1", seed: 1, ...options });
  try {
    await fn(backend.url);
  } finally {
    await backend.close();
  }
}

/** Wall time of one GET, body included, in milliseconds. */
async function timedGet(url: string): Promise<{ ms: number; status: number }> {
  const start = performance.now();
  const response = await fetch(url);
  await response.body?.cancel();
  return { ms: performance.now() - start, status: response.status };
}

/**
 * `total` GETs of `/` by `workers` sequential workers: each one's wall time at the client and the
 * time the backend itself measured from arrival to answer (`latency_ms`).
 *
 * One discarded round first opens the connections, so connection setup is not counted as latency.
 */
async function sample(
  url: string,
  total: number,
  workers: number,
): Promise<{ wall: number[]; served: number[] }> {
  await Promise.all(Array.from({ length: workers }, () => timedGet(url)));
  const wall: number[] = [];
  const served: number[] = [];
  await Promise.all(Array.from({ length: workers }, async () => {
    while (wall.length + workers <= total) {
      const start = performance.now();
      const body = await (await fetch(url)).json();
      wall.push(performance.now() - start);
      served.push(body.latency_ms);
    }
  }));
  return { wall, served };
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: "POST", body: JSON.stringify(body) });
}

Deno.test("startBackend() answers / with its name, port, host name, timestamp and latency", async () => {
  const backend = startBackend({ port: 0, host: "127.0.0.1", name: "alpha", latencyMs: 30 }, {
    hostname: "box",
  });
  try {
    const start = performance.now();
    const body = await (await fetch(backend.url)).json();
    const elapsed = performance.now() - start;
    equal(body.backend, "alpha");
    equal(body.port, backend.port);
    equal(body.hostname, "box");
    ok(Math.abs(Date.parse(body.timestamp) - Date.now()) < 5_000, `timestamp ${body.timestamp}`);
    ok(body.latency_ms >= 29 && body.latency_ms <= elapsed, `latency_ms ${body.latency_ms}, wall ${elapsed}`);
  } finally {
    await backend.close();
  }
});

// Shape is checked on the backend's own measurement of each request (arrival to answer, real
// timers), location also on the client's wall time. Client wall times add the loopback round trip
// and, on a busy 2-core machine, scheduling delays of other processes that can swamp a few
// milliseconds of spread; so the client side gets generous room above the target and none below.
// Timers fire late on a loaded machine, so the backend's own numbers get some room above too.

/** The [q1, median, q3, p95] of `values`. */
const quartiles = (values: number[]) => [0.25, 0.5, 0.75, 0.95].map((q) => quantile(values, q));

Deno.test("startBackend() fixed latency stays within the jitter band", async () => {
  await withBackend({ latencyMs: 20, jitterMs: 5, distribution: "fixed" }, async (url) => {
    const { wall, served } = await sample(url, 200, 10);
    ok(quantile(wall, 0) >= 14.5, `client min ${quantile(wall, 0)}: nothing below the band`);
    ok(quantile(wall, 0.5) >= 19.5 && quantile(wall, 0.5) <= 30, `client median ${quantile(wall, 0.5)}`);
    const [q1, median, q3] = quartiles(served);
    ok(
      quantile(served, 0) >= 14.5 && quantile(served, 0.9) <= 28,
      `served min ${quantile(served, 0)}, p90 ${quantile(served, 0.9)}`,
    );
    ok(median >= 19.5 && median <= 24, `served median ${median}`);
    // A uniform band 15..25 has an IQR of 5; N(20, 5) would have 6.7, a constant 0.
    ok(q3 - q1 >= 3.5 && q3 - q1 <= 6.5, `served IQR ${q3 - q1}`);
  });
});

Deno.test("startBackend() normal latency has the asked mean and spread, with a short tail", async () => {
  await withBackend({ latencyMs: 30, jitterMs: 8, distribution: "normal" }, async (url) => {
    const { wall, served } = await sample(url, 300, 10);
    ok(quantile(wall, 0.5) >= 29 && quantile(wall, 0.5) <= 42, `client median ${quantile(wall, 0.5)}`);
    const [q1, median, q3, p95] = quartiles(served);
    ok(median >= 29 && median <= 35, `served median ${median}`);
    // N(30, 8): IQR 10.8, p95 - median 13.2. The lognormal below: IQR 17.4, p95 - median 31.5.
    ok(q3 - q1 >= 8 && q3 - q1 <= 14, `served IQR ${q3 - q1}`);
    ok(p95 - median < 20, `served p95 - median ${p95 - median}`);
    ok(Math.abs(q3 - median - (median - q1)) < 2.5, `symmetric quartiles ${q1} ${median} ${q3}`);
  });
});

Deno.test("startBackend() lognormal latency has the asked mean with a long right tail", async () => {
  await withBackend({ latencyMs: 30, jitterMs: 15, distribution: "lognormal" }, async (url) => {
    const { wall, served } = await sample(url, 300, 10);
    ok(quantile(wall, 0.5) >= 25.5 && quantile(wall, 0.5) <= 40, `client median ${quantile(wall, 0.5)}`);
    const [q1, median, q3, p95] = quartiles(served);
    // Median 30/sqrt(1.25) = 26.8, below the mean of 30; quartiles 19.5 and 36.9; p95 58.3.
    ok(median >= 25.5 && median <= 31.5, `served median ${median}`);
    ok(q3 - q1 >= 13, `served IQR ${q3 - q1}`);
    ok(p95 - median > 22, `served p95 - median ${p95 - median}`);
    // Tail asymmetry, (p95 - median) / (median - p5): 2.17 for these parameters, 1.0 for a symmetric
    // shape. The outer quantiles keep the margin wide when timer lateness on a busy machine shifts and
    // blurs every sample (the quartile ratio, 1.38, did not).
    const p5 = quantile(served, 0.05);
    ok(p95 - median > (median - p5) * 1.4, `right-skewed tails ${p5} ${median} ${p95}`);
  });
});

Deno.test("startBackend() with capacity 1 serves concurrent requests one after another", async () => {
  await withBackend({ latencyMs: 40, capacity: 1 }, async (url) => {
    const start = performance.now();
    const done = await Promise.all(
      Array.from({ length: 6 }, () => timedGet(url).then(() => performance.now() - start)),
    );
    const total = Math.max(...done);
    ok(total >= 6 * 40 - 5 && total < 6 * 40 + 120, `6 x 40ms at capacity 1 took ${total}ms`);
    const sorted = done.sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) ok(sorted[i] - sorted[i - 1] >= 30, `completions ${sorted}`);
  });
  await withBackend({ latencyMs: 40, capacity: 3 }, async (url) => {
    const start = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => timedGet(url)));
    const total = performance.now() - start;
    ok(total >= 2 * 40 - 5 && total < 2 * 40 + 80, `6 x 40ms at capacity 3 took ${total}ms`);
  });
});

Deno.test("startBackend() fails about error-rate of requests with 500", async () => {
  await withBackend({ errorRate: 0.2 }, async (url) => {
    const statuses = await Promise.all(
      Array.from({ length: 500 }, () => timedGet(url).then((r) => r.status)),
    );
    const failures = statuses.filter((s) => s === 500).length;
    equal(failures + statuses.filter((s) => s === 200).length, 500);
    // Binomial(500, 0.2): mean 100, sd 8.9; the window is about 3.4 sd each side.
    ok(failures >= 70 && failures <= 130, `${failures} of 500 failed`);
  });
  await withBackend({ errorRate: 0 }, async (url) => {
    const statuses = await Promise.all(
      Array.from({ length: 100 }, () => timedGet(url).then((r) => r.status)),
    );
    ok(statuses.every((s) => s === 200));
  });
});

Deno.test("startBackend() /health follows POST /admin/health and ignores load and latency", async () => {
  await withBackend({ latencyMs: 600, capacity: 1 }, async (url) => {
    const slow = fetch(url); // holds the only slot for 600 ms
    const first = await timedGet(`${url}/health`);
    equal(first.status, 200);
    ok(first.ms < 500, "health does not queue behind served requests");
    equal((await post(`${url}/admin/health`, { healthy: false })).status, 200);
    equal((await timedGet(`${url}/health`)).status, 503);
    deepEqual(await (await fetch(`${url}/admin/health`)).json(), { healthy: false });
    equal((await post(`${url}/admin/health`, { healthy: "no" })).status, 400);
    equal((await post(`${url}/admin/health`, { healthy: true })).status, 200);
    equal((await timedGet(`${url}/health`)).status, 200);
    equal(await slow.then((r) => r.body?.cancel().then(() => r.status)), 200);
  });
});

Deno.test("startBackend() /echo returns method, path, query, headers and body", async () => {
  await withBackend({}, async (url) => {
    const response = await fetch(`${url}/echo?a=1&a=2&b=x`, {
      method: "PUT",
      headers: { "x-test": "yes" },
      body: "hello body",
    });
    const body = await response.json();
    equal(body.method, "PUT");
    equal(body.path, "/echo");
    deepEqual(body.query, { a: ["1", "2"], b: "x" });
    equal(body.headers["x-test"], "yes");
    equal(body.body, "hello body");
    const tooBig = await fetch(`${url}/echo`, { method: "POST", body: new Uint8Array((1 << 20) + 1) });
    equal(tooBig.status, 413);
    await tooBig.body?.cancel();
  });
});

Deno.test("startBackend() /bytes streams exactly n bytes in many chunks and bounds n", async () => {
  await withBackend({}, async (url) => {
    const n = 1_000_003;
    const response = await fetch(`${url}/bytes?n=${n}`);
    equal(response.headers.get("content-length"), String(n));
    let total = 0;
    let chunks = 0;
    for await (const chunk of response.body!) {
      total += chunk.byteLength;
      chunks++;
    }
    equal(total, n);
    ok(chunks > 4, `${chunks} chunks`);
    for (const bad of ["-1", "1.5", "abc", String(64 * 2 ** 20 + 1)]) {
      const rejected = await fetch(`${url}/bytes?n=${bad}`);
      equal(rejected.status, 400, `n=${bad}`);
      await rejected.body?.cancel();
    }
  });
});

Deno.test("startBackend() holds responses during POST /admin/pause", async () => {
  await withBackend({}, async (url) => {
    equal((await post(`${url}/admin/pause`, { duration: "300ms" })).status, 200);
    const during = await timedGet(url);
    ok(during.ms >= 280 && during.ms < 600, `paused request took ${during.ms}ms`);
    const after = await timedGet(url);
    ok(after.ms < 100, `request after the pause took ${after.ms}ms`);
    equal((await post(`${url}/admin/pause`, { duration: "soon" })).status, 400);
  });
});

Deno.test("startBackend() POST /admin/profile changes latency and errors of a running backend", async () => {
  await withBackend({}, async (url) => {
    ok((await timedGet(url)).ms < 50);
    const changed = await (await post(`${url}/admin/profile`, { latency: "120ms", error_rate: 1 })).json();
    equal(changed.latency, "120ms");
    const slow = await timedGet(url);
    ok(slow.ms >= 115, `took ${slow.ms}ms`);
    equal(slow.status, 500);
    equal((await post(`${url}/admin/profile`, { latency: "fast" })).status, 400);
    equal((await post(`${url}/admin/profile`, { colour: "red" })).status, 400);
    equal((await (await fetch(`${url}/admin/profile`)).json()).error_rate, 1);
  });
});

Deno.test("startBackend() close() answers waiting requests with 503 without waiting for their latency", async () => {
  const backend = startBackend({ port: 0, host: "127.0.0.1", latencyMs: 10_000 });
  const pending = fetch(backend.url);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const start = performance.now();
  await backend.close();
  const response = await pending;
  equal(response.status, 503);
  await response.body?.cancel();
  ok(performance.now() - start < 1_000);
});

Deno.test("startBackend() /ws echoes text as text and binary as binary, and bypasses latency and capacity", async () => {
  // A latency of 10 s and one slot: an echo that paid the profile would time out below.
  await withBackend({ latencyMs: 10_000, capacity: 1 }, async (url) => {
    const ws = await openClient(`${url.replace("http", "ws")}/ws`);
    try {
      ws.send("hello");
      deepEqual(await nextMessage(ws, 2_000).then(([d, b]) => [d.toString(), b]), ["hello", false]);
      const binary = Uint8Array.from({ length: 70_000 }, (_, i) => i % 251);
      ws.send(binary);
      const [data, isBinary] = await nextMessage(ws, 2_000);
      equal(isBinary, true);
      deepEqual(new Uint8Array(data), binary);
      const other = await openClient(`${url.replace("http", "ws")}/ws`); // a second socket at once
      other.send("second");
      equal((await nextMessage(other, 2_000))[0].toString(), "second");
      other.close(1000, "done");
      deepEqual(await closed(other), [1000, "done"]);
    } finally {
      ws.terminate();
    }
  });
});

Deno.test("startBackend() /ws answers a plain GET with 426 naming the upgrade", async () => {
  await withBackend({}, async (url) => {
    const response = await fetch(`${url}/ws`);
    equal(response.status, 426);
    equal(response.headers.get("upgrade"), "websocket");
    match((await response.json()).error, /expected a WebSocket upgrade/);
  });
});

Deno.test("startBackend() close() closes open WebSockets with 1001 and returns", async () => {
  const backend = startBackend({ port: 0, host: "127.0.0.1" });
  const ws = await openClient(`${backend.url.replace("http", "ws")}/ws`);
  const closing = closed(ws, 3_000);
  const start = performance.now();
  await backend.close();
  equal((await closing)[0], 1001, "going away");
  ok(performance.now() - start < 2_000, `close() took ${performance.now() - start} ms`);
});

// The command-line entry point, run as a real process.

const BACKEND = new URL("../../../demo/backend/backend.ts", import.meta.url).pathname;

/** Start `deno task backend`'s command as a child with `args`; resolves once it prints its port. */
async function spawnBackend(args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env=BACKEND_*", "--allow-sys=hostname", BACKEND, ...args],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`backend exited before listening: ${text}`);
    text += value;
  }
  const port = Number(/listening on .*:(\d+)/.exec(text)?.[1]);
  return {
    child,
    text,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      const status = await child.status;
      await reader.cancel();
      return status;
    },
  };
}

/**
 * CPU time (user + system) of a process in milliseconds, from /proc (clock ticks of 10 ms).
 *
 * Read with `cat` because Deno grants /proc reads only to --allow-all; this is the same counter
 * that container CPU statistics add up.
 */
async function cpuMs(pid: number): Promise<number> {
  const output = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped" }).output();
  const stat = new TextDecoder().decode(output.stdout);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function getSequentially(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await (await fetch(url)).body?.cancel();
}

Deno.test({
  name: "backend main() burns the asked CPU per request, visible in the process's CPU time",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const backend = await spawnBackend(["--port", "0", "--host", "127.0.0.1", "--name", "cpu"]);
    try {
      await getSequentially(backend.url, 5); // warm up: JIT and connection
      const idleStart = await cpuMs(backend.child.pid);
      await getSequentially(backend.url, 20);
      const idle = (await cpuMs(backend.child.pid)) - idleStart;
      const set = await fetch(`${backend.url}/admin/profile`, { method: "POST", body: '{"cpu": "20ms"}' });
      equal(set.status, 200);
      await set.body?.cancel();
      const busyStart = await cpuMs(backend.child.pid);
      await getSequentially(backend.url, 20);
      const busy = (await cpuMs(backend.child.pid)) - busyStart;
      console.log(`CPU for 20 requests: ${idle} ms at --cpu 0, ${busy} ms at --cpu 20ms`);
      // 20 requests x 20 ms = 400 ms of CPU on top of what serving costs; ticks are 10 ms.
      ok(busy >= 380, `busy requests used ${busy} ms of CPU`);
      ok(busy - idle >= 330, `busy ${busy} ms vs idle ${idle} ms of CPU`);
    } finally {
      equal((await backend.stop()).code, 0, "exits cleanly on SIGTERM");
    }
  },
});

Deno.test("backend main() reads BACKEND_* variables, and flags win over them", async () => {
  const backend = await spawnBackend(["--port", "0", "--host", "127.0.0.1", "--latency", "40ms"], {
    BACKEND_NAME: "from-env",
    BACKEND_LATENCY: "1s",
  });
  try {
    match(backend.text, /backend from-env listening/);
    const start = performance.now();
    const body = await (await fetch(backend.url)).json();
    equal(body.backend, "from-env");
    ok(performance.now() - start < 500, "--latency 40ms beat BACKEND_LATENCY=1s");
  } finally {
    await backend.stop();
  }
});

Deno.test("backend main() exits 2 and names every bad flag", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-env=BACKEND_*",
      BACKEND,
      "--latency",
      "fast",
      "--capacity",
      "0",
      "--distribution",
      "zipf",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr);
  equal(code, 2);
  match(text, /--latency: expected a duration/);
  match(text, /--capacity: expected an integer in \[1, Infinity\], got "0"/);
  match(text, /--distribution: expected one of fixed, normal, lognormal, got "zipf"/);
});

Deno.test("backend main() exits 1 with a message when the port is taken", async () => {
  const taken = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env=BACKEND_*",
        BACKEND,
        "--host",
        "127.0.0.1",
        "--port",
        `${taken.addr.port}`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    equal(code, 1);
    match(
      new TextDecoder().decode(stderr),
      new RegExp(`Cannot listen on 127.0.0.1:${taken.addr.port}: .*in use`),
    );
  } finally {
    taken.close();
  }
});
