import { deepEqual, equal, match, ok } from "node:assert/strict";
import { startBackend } from "../../demo/backend.ts";
import type { BackendOptions } from "../../demo/backend_config.ts";
import { quantile } from "../_util/stats.ts";

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
 * `total` GETs by `workers` sequential workers; returns every wall time.
 *
 * One discarded round first opens the connections, so connection setup is not counted as latency.
 */
async function sample(url: string, total: number, workers: number): Promise<number[]> {
  await Promise.all(Array.from({ length: workers }, () => timedGet(url)));
  const times: number[] = [];
  await Promise.all(Array.from({ length: workers }, async () => {
    while (times.length + workers <= total) times.push((await timedGet(url)).ms);
  }));
  return times;
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

// Client-side wall times include the loopback round trip and timer lateness (about a millisecond),
// and on a busy 2-core machine the odd stall delays every request in flight at that moment by tens
// of milliseconds. Means are at the mercy of such stalls, so location, spread and tail are checked
// with quantiles, which a few stalled samples cannot move.

Deno.test("startBackend() fixed latency is measured by a client within the jitter band", async () => {
  await withBackend({ latencyMs: 20, jitterMs: 5, distribution: "fixed" }, async (url) => {
    const times = await sample(url, 200, 10);
    ok(quantile(times, 0) >= 14.5, `min ${quantile(times, 0)}`);
    ok(quantile(times, 0.9) <= 32, `p90 ${quantile(times, 0.9)}`);
    // A uniform band 15..25 has an IQR of 5; N(20, 5) would have 6.7, a constant 0.
    const iqr = quantile(times, 0.75) - quantile(times, 0.25);
    ok(iqr >= 3.5 && iqr <= 6.5, `IQR ${iqr}`);
    ok(quantile(times, 0.5) >= 19.5 && quantile(times, 0.5) <= 23, `median ${quantile(times, 0.5)}`);
  });
});

Deno.test("startBackend() normal latency has the asked mean and spread, with a short tail", async () => {
  await withBackend({ latencyMs: 30, jitterMs: 8, distribution: "normal" }, async (url) => {
    const times = await sample(url, 300, 15);
    ok(quantile(times, 0.5) >= 29 && quantile(times, 0.5) <= 33.5, `median ${quantile(times, 0.5)}`);
    // IQR of N(30, 8) is 1.349 x 8 = 10.8; the lognormal below has 17.4.
    const iqr = quantile(times, 0.75) - quantile(times, 0.25);
    ok(iqr >= 8 && iqr <= 14, `IQR ${iqr}`);
    // p95 of N(30, 8) is 43.2; a lognormal with the same mean and spread reaches 58.
    ok(quantile(times, 0.95) < 50, `p95 ${quantile(times, 0.95)}`);
    ok(
      Math.abs(quantile(times, 0.5) - (quantile(times, 0.25) + quantile(times, 0.75)) / 2) < 2.5,
      "symmetric",
    );
  });
});

Deno.test("startBackend() lognormal latency has the asked mean with a long right tail", async () => {
  await withBackend({ latencyMs: 30, jitterMs: 15, distribution: "lognormal" }, async (url) => {
    const times = await sample(url, 300, 15);
    // Median 30/sqrt(1.25) = 26.8, quartiles 19.5 and 36.9, p95 58.3 for these parameters.
    const [q1, median, q3] = [0.25, 0.5, 0.75].map((q) => quantile(times, q));
    ok(median >= 25.5 && median <= 30.5, `median ${median}, below the mean of 30`);
    // Upper over lower quartile gap: 1.38 for these parameters, 1.0 for a symmetric shape.
    ok(q3 - median > (median - q1) * 1.1, `right-skewed quartiles ${q1} ${median} ${q3}`);
    ok(quantile(times, 0.95) > 50, `p95 ${quantile(times, 0.95)}`);
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

// The command-line entry point, run as a real process.

const BACKEND = new URL("../../demo/backend.ts", import.meta.url).pathname;

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
