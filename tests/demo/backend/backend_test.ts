import { deepEqual, equal, match, ok } from "node:assert/strict";
import { startBackend } from "../../../demo/backend/backend.ts";
import type { BackendOptions } from "../../../demo/backend/config.ts";
import { createLatencySampler, type LatencyProfile } from "../../../demo/backend/latency.ts";
import { seededRandom } from "../../../demo/shared/random.ts";
import { type LagStats, startLagProbe } from "../../_util/lag.ts";
import { waitFor } from "../../_util/harness.ts";
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

// The backend draws each served request's latency from a sampler seeded with `seed` (1 here),
// in arrival order, and its own measurement of a request (arrival to answer, real timers) is
// that draw plus however late the machine fired the timer. So the test draws the same seeded
// latencies itself and checks, as multisets, that no answer came before its draw and none later
// than its draw plus the lateness a probe saw meanwhile. The draws' own shape (band, mean,
// spread, tails) is the sampler's, checked exactly in latency_test.ts; here the point is that
// the backend serves those draws. On a quiet machine the probe sees a few milliseconds and the
// check is as tight as a fixed band; on a busy one it widens by what the machine added.

/** The latencies a backend seeded with 1 draws for its requests `from` (0-based) to `to`. */
function drawsOf(profile: LatencyProfile, from: number, to: number): number[] {
  const next = createLatencySampler(profile, seededRandom(1));
  return Array.from({ length: to }, next).slice(from);
}

/**
 * The k-th shortest served latency lies between the k-th shortest draw (1 ms below it for timer
 * rounding) and that draw plus the probe's worst lateness, one probe interval and 5 ms of the
 * request's own work.
 */
function assertServesDraws(served: number[], draws: number[], lag: LagStats): void {
  equal(served.length, draws.length);
  const s = [...served].sort((a, b) => a - b);
  const d = [...draws].sort((a, b) => a - b);
  const slack = lag.maxMs + 5 + 5;
  const off = s.map((v, k) => [k, v, d[k]]).filter(([, v, w]) => v < w - 1 || v > w + slack);
  deepEqual(
    off.slice(0, 5),
    [],
    `served vs drawn (k, served, drawn) off by more than -1..+${slack.toFixed(1)} ms`,
  );
}

/** Sample `total` requests with `workers` workers under a lag probe; check them against the draws. */
async function sampleDraws(url: string, profile: LatencyProfile, total: number, workers: number) {
  const lag = startLagProbe();
  let stats: LagStats;
  let result: { wall: number[]; served: number[] };
  try {
    result = await sample(url, total, workers);
  } finally {
    stats = lag.stop();
  }
  const { wall, served } = result;
  // The first `workers` draws went to the discarded round.
  assertServesDraws(served, drawsOf(profile, workers, workers + served.length), stats);
  // The client's time holds the backend's, request by request.
  for (let i = 0; i < wall.length; i++) {
    ok(wall[i] >= served[i] - 0.5, `client ${wall[i]} < served ${served[i]}`);
  }
  return { wall, served, lag: stats };
}

Deno.test("startBackend() fixed latency stays within the jitter band", async () => {
  const profile = { latencyMs: 20, jitterMs: 5, distribution: "fixed" } as const;
  await withBackend(profile, async (url) => {
    const { served, lag } = await sampleDraws(url, profile, 200, 10);
    ok(quantile(served, 0) >= 14, `served min ${quantile(served, 0)}: nothing below the band`);
    ok(quantile(served, 1) <= 25 + lag.maxMs + 10, `served max ${quantile(served, 1)}, lag ${lag.maxMs}`);
  });
});

Deno.test("startBackend() normal latency has the asked mean and spread, with a short tail", async () => {
  const profile = { latencyMs: 30, jitterMs: 8, distribution: "normal" } as const;
  await withBackend(profile, async (url) => void await sampleDraws(url, profile, 300, 10));
});

Deno.test("startBackend() lognormal latency has the asked mean with a long right tail", async () => {
  const profile = { latencyMs: 30, jitterMs: 15, distribution: "lognormal" } as const;
  await withBackend(profile, async (url) => void await sampleDraws(url, profile, 300, 10));
});

Deno.test("startBackend() with capacity 1 serves concurrent requests one after another", async () => {
  // Each of the six sleeps 40 ms once its turn comes, and the machine may fire each timer late.
  await withBackend({ latencyMs: 40, capacity: 1 }, async (url) => {
    const lag = startLagProbe();
    const start = performance.now();
    const done = await Promise.all(
      Array.from({ length: 6 }, () => timedGet(url).then(() => performance.now() - start)),
    );
    const { maxMs } = lag.stop();
    const total = Math.max(...done);
    ok(total >= 6 * 40 - 5 && total < 6 * (40 + maxMs + 5) + 120, `6 x 40ms at capacity 1 took ${total}ms`);
    const sorted = done.sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) ok(sorted[i] - sorted[i - 1] >= 30, `completions ${sorted}`);
  });
  await withBackend({ latencyMs: 40, capacity: 3 }, async (url) => {
    const lag = startLagProbe();
    const start = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => timedGet(url)));
    const total = performance.now() - start;
    const { maxMs } = lag.stop();
    ok(total >= 2 * 40 - 5 && total < 2 * (40 + maxMs + 5) + 80, `6 x 40ms at capacity 3 took ${total}ms`);
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
    let slowDone = false;
    const slow = fetch(url).then((r) => (slowDone = true, r)); // holds the only slot for 600 ms
    const first = await timedGet(`${url}/health`);
    equal(first.status, 200);
    ok(!slowDone, "health is answered while the only slot is held: it does not queue behind it");
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
    const lag = startLagProbe();
    equal((await post(`${url}/admin/pause`, { duration: "300ms" })).status, 200);
    const during = await timedGet(url);
    const after = await timedGet(url);
    const { maxMs } = lag.stop();
    ok(during.ms >= 280 && during.ms < 600 + maxMs, `paused request took ${during.ms}ms (lag ${maxMs})`);
    ok(after.ms < 100 + maxMs, `request after the pause took ${after.ms}ms (lag ${maxMs})`);
    equal((await post(`${url}/admin/pause`, { duration: "soon" })).status, 400);
  });
});

Deno.test("startBackend() POST /admin/profile changes latency and errors of a running backend", async () => {
  await withBackend({}, async (url) => {
    const lag = startLagProbe();
    const fast = await timedGet(url);
    ok(fast.ms < 50 + lag.stop().maxMs, `took ${fast.ms}ms`);
    const changed = await (await post(`${url}/admin/profile`, { latency: "120ms", error_rate: 1 })).json();
    equal(changed.latency, "120ms");
    const slow = await timedGet(url);
    ok(slow.ms >= 115, `took ${slow.ms}ms`);
    equal(slow.status, 500);
    equal((await post(`${url}/admin/profile`, { latency: "fast" })).status, 400);
    equal((await post(`${url}/admin/profile`, { colour: "red" })).status, 400);
    equal((await (await fetch(`${url}/admin/profile`)).json()).error_rate, 1);
    const tail = await (await post(`${url}/admin/profile`, {
      latency: "1ms",
      error_rate: 0,
      tail_ratio: 1,
      tail_latency: "150ms",
    })).json();
    deepEqual([tail.tail_ratio, tail.tail_latency], [1, "150ms"]);
    ok((await timedGet(url)).ms >= 145, "every request in the tail");
    equal((await post(`${url}/admin/profile`, { tail_ratio: 2 })).status, 400);
  });
});

Deno.test("startBackend() close() answers waiting requests with 503 without waiting for their latency", async () => {
  // The handler reads the clock first when a served request arrives: that is when it waits.
  let clockReads = 0;
  const now = () => (clockReads++, performance.now());
  const backend = startBackend({ port: 0, host: "127.0.0.1", latencyMs: 10_000 }, { now });
  const pending = fetch(backend.url);
  await waitFor(() => clockReads > 0, 10_000, "the request at the backend");
  const start = performance.now();
  await backend.close();
  const response = await pending;
  equal(response.status, 503);
  await response.body?.cancel();
  const took = performance.now() - start;
  ok(took < 5_000, `close() took ${took}ms: it must not wait out the 10 s latency`);
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
