import assert from "node:assert/strict";
import { runLiveCycle } from "../../../demo/compare/live_cycle.ts";
import { startBackend, startLb, startLbFrom, type TestBackend, type TestLb } from "../../_util/harness.ts";
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
    assert.equal(result.service, "default", "the only service, without --service");
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
      /default: side by side \(last period of each strategy\):\nstrategy +req\/s +errors +b0 share +b0 p99/,
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
    assert.match(stdout, / default: strategy -> round_robin for 1s/);
    assert.match(stdout, /restored strategy round_robin of default/);
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

/** A proxy with two services, web (w0, w1) and api (a0, a1 behind /api), on fresh backends. */
async function twoServices(): Promise<{ lb: TestLb; backends: TestBackend[]; close(): Promise<void> }> {
  const backends = [1, 3, 1, 6].map((d) => startBackend(async () => (await sleep(d), new Response("ok"))));
  const [w0, w1, a0, a1] = backends.map((b) => b.url);
  const lb = await startLbFrom(
    `health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}
services:
  web:
    backends: [{name: w0, url: "${w0}"}, {name: w1, url: "${w1}"}]
  api:
    strategy: random
    backends: [{name: a0, url: "${a0}"}, {name: a1, url: "${a1}"}]
routes:
  - {match: {path_prefix: /api}, service: api, strip_prefix: true}
  - service: web
`,
  );
  return {
    lb,
    backends,
    close: async () => {
      await lb.shutdown();
      await Promise.all(backends.map((b) => b.close()));
    },
  };
}

Deno.test("runLiveCycle() with service switches that service alone and reads its section of /api/stats", async () => {
  const { lb, close } = await twoServices();
  const stop = new AbortController();
  const bounds = { concurrency: 2, maxRequests: 20_000, maxMs: 15_000, signal: stop.signal };
  const loads = [steadyLoad(lb.url, bounds), steadyLoad(lb.url, { ...bounds, path: () => "/api/x" })];
  try {
    const atSwitch: [string, string, string][] = [];
    const lines: string[] = [];
    const result = await runLiveCycle({
      adminUrl: lb.adminUrl,
      service: "api",
      every: 1000,
      rounds: 2,
      strategies: ["least_connections", "peak_ewma"],
      print: (line) => {
        lines.push(line);
        const m = / api: strategy -> (\S+) for 1s$/.exec(line);
        if (m) {
          atSwitch.push([m[1], lb.service("api").balancer.strategy, lb.service("web").balancer.strategy]);
        }
      },
    });
    assert.ok(result.ok, result.ok ? "" : result.error);
    assert.equal(result.service, "api");
    assert.deepEqual(atSwitch, [
      ["least_connections", "least_connections", "round_robin"],
      ["peak_ewma", "peak_ewma", "round_robin"],
    ]);
    assert.equal(result.restored, "random", "api's own starting strategy, not the top-level default");
    assert.equal(lb.service("api").balancer.strategy, "random");
    assert.equal(lb.service("web").balancer.strategy, "round_robin");
    assert.equal(result.periods.length, 2);
    for (const period of result.periods) {
      assert.equal(period.service, "api");
      assert.deepEqual(period.report.backends.map((b) => b.name), ["a0", "a1"]);
      for (const b of period.report.backends) {
        assert.ok(b.requests > 0, `${period.strategy}/${b.name} got traffic`);
      }
    }
    assert.match(
      lines.join("\n"),
      /api: side by side \(last period of each strategy\):\nstrategy .* a0 share/,
    );
  } finally {
    stop.abort();
    const results = await Promise.all(loads);
    await close();
    for (const r of results) assert.deepEqual(r.failures, []);
  }
});

Deno.test("runLiveCycle() on several services without service, or with an unknown one, fails at once listing them", async () => {
  const { lb, close } = await twoServices();
  const lines: string[] = [];
  const print = (line: string) => void lines.push(line);
  try {
    const none = await runLiveCycle({ adminUrl: lb.adminUrl, every: 1000, rounds: 1, print });
    assert.deepEqual(none, {
      ok: false,
      error: "the proxy has 2 services (web, api): pick one with --service NAME",
      service: undefined,
      periods: [],
    });
    const unknown = await runLiveCycle({
      adminUrl: lb.adminUrl,
      service: "apj",
      every: 1000,
      rounds: 1,
      print,
    });
    assert.ok(!unknown.ok);
    assert.equal(unknown.error, 'no service named "apj"; services: web, api');
    assert.deepEqual(lines, [], "nothing switched, nothing printed");
    assert.deepEqual(
      [lb.service("web").balancer.strategy, lb.service("api").balancer.strategy],
      ["round_robin", "random"],
    );
  } finally {
    await close();
  }
});

Deno.test("live_cycle.ts CLI on two services: one error line without --service, exit 0 with --service api", async () => {
  const { lb, close } = await twoServices();
  const cli = (...extra: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "demo/compare/live_cycle.ts",
        lb.adminUrl,
        "--every",
        "1s",
        "--rounds",
        "1",
        ...extra,
      ],
      cwd: new URL("../../../", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  try {
    const without = await cli();
    assert.equal(without.code, 1);
    assert.equal(
      text(without.stderr),
      "error: the proxy has 2 services (web, api): pick one with --service NAME\n",
    );
    assert.equal(text(without.stdout), "");
    const bad = await cli("--service", "API!");
    assert.equal(bad.code, 2);
    assert.match(text(bad.stderr), /^Cannot use --service: expected a service name .*got "API!"\n/);
    const api = await cli("--service", "api");
    assert.equal(api.code, 0, text(api.stderr));
    assert.match(text(api.stdout), / api: strategy -> round_robin for 1s\n/);
    assert.match(text(api.stdout), /restored strategy random of api\n/);
    assert.equal(lb.service("web").balancer.strategy, "round_robin");
  } finally {
    await close();
  }
});
