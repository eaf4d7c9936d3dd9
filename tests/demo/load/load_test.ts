import { deepEqual, equal, ok } from "node:assert/strict";
import { startBackend } from "../../../demo/backend/backend.ts";
import { runLoad } from "../../../demo/load/load.ts";
import type { Progress } from "../../../demo/load/progress.ts";
import { startLagProbe } from "../../_util/lag.ts";

const LOAD = new URL("../../../demo/load/load.ts", import.meta.url).pathname;

/** A loopback server that records when each request arrives and its X-Forwarded-For. */
function recordingServer() {
  const arrivals: { at: number; from: string }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
    arrivals.push({ at: performance.now(), from: request.headers.get("x-forwarded-for") ?? "" });
    return new Response("ok");
  });
  return { arrivals, url: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() };
}

Deno.test("runLoad() sends at the asked rate, evenly, measured at the server", async () => {
  const target = recordingServer();
  try {
    const lag = startLagProbe();
    const start = performance.now();
    const summary = await runLoad({ url: target.url, clients: 4, rate: 50, durationMs: 2_000, seed: 3 });
    const { maxMs } = lag.stop();
    // A request due at t arrives between t and t plus the machine's lateness (the probe's worst,
    // one probe interval, 5 ms on the wire), so a window of the schedule can lose or gain the
    // requests due within that much of its edges: 200 per second of it.
    const shift = Math.ceil(200 * (maxMs + 10) / 1000);
    // 4 clients x 50/s x 2 s = 400 requests.
    ok(Math.abs(target.arrivals.length - 400) <= 20 + shift, `${target.arrivals.length} arrived`);
    equal(summary.sent, target.arrivals.length);
    equal(summary.scheduled, 400);
    ok(Math.abs(summary.sendRate - 200) <= 10, `send rate ${summary.sendRate}`);
    // Completed per second of the whole run, draining included: the requests in flight at the
    // window's end finish up to the machine's lateness later, which stretches the run by that much.
    const drainSlack = 200 * (maxMs + 50) / 2_000;
    ok(
      Math.abs(summary.achievedRate - 200) <= 10 + drainSlack,
      `achieved rate ${summary.achievedRate} (elapsed ${summary.elapsedMs} ms, lag ${maxMs} ms)`,
    );
    // Open loop means a steady stream: each 500 ms quarter of the window gets about 100.
    const quarters = [0, 0, 0, 0];
    for (const { at } of target.arrivals) quarters[Math.min(3, Math.floor((at - start) / 500))]++;
    for (const count of quarters) {
      ok(Math.abs(count - 100) <= 20 + 2 * shift, `arrivals per 500 ms: ${quarters} (lag ${maxMs} ms)`);
    }
    deepEqual(summary.statuses, { "200": summary.completed });
    equal(summary.errorRate, 0);
  } finally {
    await target.close();
  }
});

Deno.test("runLoad() shows a 500 ms stall in p99 where a closed loop hides it", async () => {
  const backend = startBackend({ port: 0, host: "127.0.0.1", latencyMs: 2 });
  try {
    const pause = () =>
      setTimeout(
        () =>
          fetch(`${backend.url}/admin/pause`, { method: "POST", body: '{"duration":"500ms"}' })
            .then((r) => r.body?.cancel()),
        500,
      );
    // Closed loop: one request after another, each timed from its own send. Only the request in
    // flight when the stall begins waits it out (or the next one, for the rest of it): one or
    // two slow samples among all, hidden from a p99 of more than a hundred.
    const lag = startLagProbe();
    const closed: number[] = [];
    pause();
    const until = performance.now() + 1_500;
    while (performance.now() < until) {
      const sent = performance.now();
      await (await fetch(backend.url)).body?.cancel();
      closed.push(performance.now() - sent);
    }
    const stalled = closed.filter((ms) => ms >= 400).length;
    ok(stalled >= 1 && stalled <= 2, `closed loop: ${stalled} of ${closed.length} requests saw the stall`);
    // Open loop: 200 requests/s keep falling due during the stall and each counts its wait. With
    // one request in flight per client the sends themselves stall too, and only timing from the
    // due time (not the send) keeps the wait in the numbers.
    for (const maxInFlight of [64, 1]) {
      pause();
      const open = await runLoad({
        url: backend.url,
        clients: 2,
        rate: 100,
        durationMs: 1_500,
        seed: 5,
        maxInFlight,
      });
      const { p90, p99, max } = open.latencyMs!;
      // A third of the requests fall due during the stall, waiting 0..500 ms: p99 ~495, p90 ~350.
      ok(p99 >= 400, `open-loop p99 ${p99} with ${maxInFlight} in flight should show the stall`);
      ok(p90 >= 150, `open-loop p90 ${p90} with ${maxInFlight} in flight`);
      ok(max >= 450 && max < 1_000 + lag.stop().maxMs, `max ${max}`);
      equal(open.failed, 0);
    }
  } finally {
    await backend.close();
  }
});

Deno.test("runLoad() counts each backend's share from X-LB-Backend or the JSON body", async () => {
  const a = startBackend({ port: 0, host: "127.0.0.1", name: "a" });
  const b = startBackend({ port: 0, host: "127.0.0.1", name: "b" });
  // A tiny forwarder that sends two requests to a for each one to b and labels the response.
  let turn = 0;
  const forwarder = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async () => {
    const [label, target] = turn++ % 3 === 2 ? ["pool-b", b] : ["pool-a", a];
    const upstream = await fetch(target.url);
    const headers = new Headers(upstream.headers);
    headers.set("x-lb-backend", label);
    return new Response(upstream.body, { status: upstream.status, headers });
  });
  try {
    const proxied = await runLoad({
      url: `http://127.0.0.1:${forwarder.addr.port}/`,
      clients: 3,
      rate: 40,
      requests: 90,
      seed: 9,
    });
    equal(proxied.completed, 90);
    // The header wins over the body's "a"/"b"; 2:1 exactly since every request was answered.
    deepEqual(proxied.backends, { "pool-a": 60, "pool-b": 30 });
    const direct = await runLoad({ url: b.url, clients: 2, rate: 50, requests: 40, seed: 9 });
    deepEqual(direct.backends, { b: 40 });
  } finally {
    await forwarder.shutdown();
    await a.close();
    await b.close();
  }
});

Deno.test("runLoad() gives each client one seeded TEST-NET-3 address", async () => {
  const target = recordingServer();
  try {
    await runLoad({ url: target.url, clients: 3, rate: 100, requests: 30, seed: 11 });
    const first = target.arrivals.map((a) => a.from);
    target.arrivals.length = 0;
    await runLoad({ url: target.url, clients: 3, rate: 100, requests: 30, seed: 11 });
    const second = target.arrivals.map((a) => a.from);
    for (const from of first) ok(/^203\.0\.113\.(\d+)$/.test(from) && Number(from.split(".")[3]) >= 1, from);
    const distinct = new Set(first);
    ok(distinct.size >= 1 && distinct.size <= 3, `${distinct.size} addresses for 3 clients`);
    deepEqual([...new Set(second)].sort(), [...distinct].sort(), "same seed, same addresses");
    const counts = [...distinct].map((from) => first.filter((f) => f === from).length);
    equal(counts.reduce((sum, n) => sum + n, 0), 30);
  } finally {
    await target.close();
  }
});

Deno.test("runLoad() against a silent target ends on time and counts timeouts at the scheduled rate", async () => {
  // Accepts connections and never answers.
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const lag = startLagProbe();
    const start = performance.now();
    const summary = await runLoad({
      url: `http://127.0.0.1:${listener.addr.port}/`,
      clients: 2,
      rate: 20,
      durationMs: 1_000,
      timeoutMs: 300,
      seed: 2,
    });
    const took = performance.now() - start;
    const { maxMs } = lag.stop();
    // The window, then the last request's timeout, each timer as late as the machine made it.
    ok(took >= 1_000 && took < 1_800 + 2 * maxMs, `took ${took} ms for a 1 s window and 300 ms timeout`);
    equal(summary.scheduled, 40);
    equal(summary.errors.timeout, summary.sent);
    equal(summary.sent + summary.unsent, 40);
    equal(summary.completed, 0);
    equal(summary.errorRate, 1);
    equal(summary.latencyMs, undefined);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("runLoad() against a closed port fails at the scheduled rate instead of spinning", async () => {
  const probe = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = probe.addr.port;
  probe.close();
  const summary = await runLoad({
    url: `http://127.0.0.1:${port}/`,
    clients: 2,
    rate: 25,
    durationMs: 800,
    seed: 4,
  });
  equal(summary.scheduled, 40);
  equal(summary.sent, 40);
  equal(summary.errors.connect, 40);
  equal(summary.failed, 40);
});

Deno.test("runLoad() counts connections closed without an answer as resets", async () => {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096)).catch(() => null);
      conn.close();
    }
  })();
  try {
    const summary = await runLoad({
      url: `http://127.0.0.1:${listener.addr.port}/`,
      clients: 1,
      rate: 20,
      requests: 10,
    });
    equal(summary.failed, 10);
    equal(summary.errors.reset, 10, JSON.stringify(summary.errors));
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});

Deno.test("runLoad() stops early on abort and reports progress while running", async () => {
  const backend = startBackend({ port: 0, host: "127.0.0.1", latencyMs: 5 });
  try {
    const abort = new AbortController();
    const reports: Progress[] = [];
    let abortedAt = 0;
    const start = performance.now();
    setTimeout(() => (abortedAt = performance.now() - start, abort.abort()), 700);
    const lag = startLagProbe();
    const summary = await runLoad(
      { url: backend.url, clients: 2, rate: 50, durationMs: 30_000, seed: 6 },
      { signal: abort.signal, onProgress: (p) => reports.push(p), progressIntervalMs: 200 },
    );
    const { maxMs } = lag.stop();
    ok(performance.now() - start < abortedAt + 800 + maxMs, "returned soon after the abort");
    // A report every 200 ms until the abort, each timer as late as the machine made it.
    const most = Math.floor(abortedAt / 200) + 1;
    const least = Math.max(1, Math.floor(abortedAt / (200 + maxMs)) - 1);
    ok(
      reports.length >= least && reports.length <= most,
      `${reports.length} progress reports in ${abortedAt} ms`,
    );
    ok(reports.at(-1)!.completed > 0 && reports.at(-1)!.p99Ms >= 5, JSON.stringify(reports.at(-1)));
    // What fell due until the abort, as it really fired: 100 per second of it.
    const due = abortedAt / 10;
    ok(Math.abs(summary.scheduled - due) <= 6, `${summary.scheduled} fell due in ${abortedAt} ms at 100/s`);
    equal(summary.completed + summary.cancelled + summary.failed, summary.sent);
    equal(summary.failed, 0);
  } finally {
    await backend.close();
  }
});

/** Run the load command as a process; returns exit code and output. */
async function loadCommand(args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env=LOAD_*", LOAD, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: new TextDecoder().decode(stdout), stderr: new TextDecoder().decode(stderr) };
}

Deno.test("load main() exits 1 when the error rate exceeds --max-errors, 0 otherwise", async () => {
  const backend = startBackend({ port: 0, host: "127.0.0.1", errorRate: 0.5, seed: 8 });
  try {
    const common = ["--url", backend.url, "--clients", "2", "--rate", "50", "--requests", "60", "--json"];
    const strict = await loadCommand([...common, "--max-errors", "0.1"]);
    equal(strict.code, 1, strict.stderr);
    const summary = JSON.parse(strict.stdout);
    ok(summary.errorRate > 0.25 && summary.errorRate < 0.75, `error rate ${summary.errorRate}`);
    equal(summary.statuses["500"] + summary.statuses["200"], 60);
    ok(/exceeds --max-errors 0.1/.test(strict.stderr));
    const lenient = await loadCommand([...common, "--max-errors", "0.9"]);
    equal(lenient.code, 0, lenient.stderr);
    const text = await loadCommand([
      "--url",
      backend.url,
      "--clients",
      "1",
      "--rate",
      "50",
      "--requests",
      "5",
    ]);
    equal(text.code, 0);
    ok(/latency +p50 .* p99 .* p99\.9 .* max/.test(text.stdout), text.stdout);
  } finally {
    await backend.close();
  }
});

Deno.test("load main() exits 2 naming bad flags", async () => {
  const bad = await loadCommand(["--url", "ftp://x", "--duration", "5", "--rate=-1"]);
  equal(bad.code, 2);
  for (const flag of ["--url", "--duration", "--rate"]) {
    ok(bad.stderr.includes(`Cannot use ${flag}`), bad.stderr);
  }
});
