import assert from "node:assert/strict";
import { runLiveCycle } from "../../../demo/compare/live_cycle.ts";
import { startBackend, startLb } from "../../_util/harness.ts";
import { sleep, steadyLoad } from "../../_util/load.ts";

Deno.test("runLiveCycle() switches strategies under load, reports each period and restores", async () => {
  const backends = [1, 6].map((d) => startBackend(async () => (await sleep(d), new Response("ok"))));
  const lb = await startLb(backends.map((b) => b.url));
  const stop = new AbortController();
  const load = steadyLoad(lb.url, {
    concurrency: 3,
    maxRequests: 20_000,
    maxMs: 15_000,
    signal: stop.signal,
  });
  try {
    const { available } = await (await fetch(`${lb.adminUrl}/api/strategy`)).json() as {
      available: string[];
    };
    const lines: string[] = [];
    const activeAtSwitch: [string, string][] = [];
    const result = await runLiveCycle({
      adminUrl: lb.adminUrl + "/",
      every: 1000,
      rounds: Math.max(2, Math.min(available.length, 3)),
      print: (line) => {
        lines.push(line);
        const m = / strategy -> (\S+) for 1s$/.exec(line);
        if (m) activeAtSwitch.push([m[1], lb.balancer.strategy]);
      },
    });
    assert.ok(result.ok, result.ok ? "" : result.error);
    assert.equal(result.restored, "round_robin");
    assert.equal(lb.balancer.strategy, "round_robin");
    for (const [wanted, active] of activeAtSwitch) assert.equal(active, wanted);
    assert.equal(activeAtSwitch.length, result.periods.length);
    for (const period of result.periods) {
      assert.equal(period.report.window_seconds, 2);
      for (const b of period.report.backends) {
        assert.ok(b.requests > 0, `${period.strategy}/${b.name} got traffic`);
      }
    }
    assert.match(
      lines.join("\n"),
      /side by side \(last period of each strategy\):\nstrategy +req\/s +errors +b0 share +b0 p99/,
    );
  } finally {
    stop.abort();
    const result = await load;
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
    assert.deepEqual(result.failures, []);
  }
});

Deno.test("runLiveCycle() returns errors as values: unknown strategy, missing token, unreachable proxy", async () => {
  const be = startBackend();
  const lb = await startLb([be.url], `admin: {listen: "127.0.0.1:0", token: "tok"}\n`);
  const print = () => {};
  try {
    const unknown = await runLiveCycle({ adminUrl: lb.adminUrl, every: 1000, strategies: ["nope"], print });
    assert.ok(!unknown.ok);
    assert.match(unknown.error, /unknown strategy nope; valid: .*round_robin/);
    const noToken = await runLiveCycle({ adminUrl: lb.adminUrl, every: 1000, rounds: 1, print });
    assert.ok(!noToken.ok);
    assert.match(noToken.error, /admin token/);
    const tooFast = await runLiveCycle({ adminUrl: lb.adminUrl, every: 10, print });
    assert.ok(!tooFast.ok);
    assert.match(tooFast.error, /at least 1s/);
    // Aborting mid-period stops at once and still restores.
    const stop = new AbortController();
    const started = performance.now();
    setTimeout(() => stop.abort(), 200);
    const aborted = await runLiveCycle({
      adminUrl: lb.adminUrl,
      every: 30_000,
      token: "tok",
      signal: stop.signal,
      print,
    });
    assert.ok(aborted.ok);
    assert.equal(aborted.restored, "round_robin");
    assert.ok(performance.now() - started < 5000);
  } finally {
    await lb.shutdown();
    await be.close();
  }
  const gone = await runLiveCycle({ adminUrl: lb.adminUrl, every: 1000, print });
  assert.ok(!gone.ok);
  assert.match(gone.error, /cannot reach the admin API/);
});

Deno.test("live_cycle.ts CLI runs one period against a proxy and exits 0", async () => {
  const be = startBackend();
  const lb = await startLb([be.url]);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "demo/compare/live_cycle.ts",
        "--live",
        lb.adminUrl,
        "--every",
        "1s",
        "--rounds",
        "1",
      ],
      cwd: new URL("../../../", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(stdout, /strategy -> round_robin for 1s/);
    assert.match(stdout, /restored strategy round_robin/);
    const bad = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "demo/compare/live_cycle.ts",
        lb.adminUrl,
        "--every",
        "soon",
      ],
      cwd: new URL("../../../", import.meta.url).pathname,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(bad.code, 2);
  } finally {
    await lb.shutdown();
    await be.close();
  }
});
