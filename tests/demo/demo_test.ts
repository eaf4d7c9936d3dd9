import assert from "node:assert/strict";
import { DEMO_ROUTES, DEMO_SERVICES, parseDemoArgs, routeRequest } from "../../demo/demo_config.ts";
import { nodeRequest, parseMetrics, waitFor } from "../_util/harness.ts";
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

/** One service's block of the banner: its strategy, backends, curl lines and switch line. */
interface BannerService {
  readonly name: string;
  readonly strategy: string;
  readonly backends: { name: string; port: number }[];
  readonly tries: { url: string; host?: string }[];
  switchUrl: string;
}

/** The service blocks of a demo banner, parsed strictly: a line that fits no shape is an error. */
function bannerServices(banner: string): BannerService[] {
  const blocks = banner.split(/^(?=service )/m).slice(1);
  return blocks.map((block) => {
    const [head, ...rest] = block.trimEnd().split("\n").filter((l) => l !== "Ctrl-C stops everything.");
    const m = /^service (\S+): strategy (\S+)$/.exec(head);
    assert.ok(m, `service line: ${head}`);
    const service: BannerService = { name: m[1], strategy: m[2], backends: [], tries: [], switchUrl: "" };
    let label = "";
    for (const line of rest) {
      const cols = /^ {2}(\S*) +(.*)$/.exec(line);
      assert.ok(cols, `banner line: ${line}`);
      label = cols[1] || label;
      const value = cols[2];
      if (label === "backends") {
        const b = /^(\S+) +http:\/\/127\.0\.0\.1:(\d+) /.exec(value);
        assert.ok(b, `backend line: ${line}`);
        service.backends.push({ name: b[1], port: Number(b[2]) });
      } else if (label === "try") {
        const c = /^curl -i (?:-H 'Host: ([^']+)' )?(http:\/\/\S+)$/.exec(value);
        assert.ok(c, `curl line: ${line}`);
        service.tries.push(c[1] === undefined ? { url: c[2] } : { url: c[2], host: c[1] });
      } else if (label === "switch") {
        const c = /^curl -X PUT -d '(\{"strategy":"peak_ewma"\})' (http:\/\/\S+)$/.exec(value);
        assert.ok(c, `switch line: ${line}`);
        service.switchUrl = c[2];
      } else assert.fail(`unexpected banner line: ${line}`);
    }
    return service;
  });
}

/** Requests answered in `/api/stats`' window, per service. */
async function servedPerService(adminUrl: string): Promise<Record<string, number>> {
  const stats = await (await fetch(`${adminUrl}/api/stats`)).json() as {
    services: { name: string; strategy: string; backends: { requests: number }[] }[];
  };
  return Object.fromEntries(
    stats.services.map((s) => [s.name, s.backends.reduce((n, b) => n + b.requests, 0)]),
  );
}

Deno.test("deno task demo serves two services at once, each reached by its banner's curl lines, moves both under --load and stops cleanly on SIGINT", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...await taskPermissions("demo"),
      DEMO,
      ...["--admin-port", "0", "--tls-port", "0", "--load", "--rate", "40"],
    ],
    env: { LB_DEMO_PORT: String(port), LB_DEMO_STRATEGY: "LeastConnections" },
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
    assert.match(
      out,
      /^lb demo: 2 services, 6 backends on loopback, background load 40 req\/s per service$/m,
    );
    const proxy = /proxy +(http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out);
    const status = /status page +(http:\/\/127\.0\.0\.1:(\d+))\//.exec(out);
    const https = /https +https:\/\/localhost:(\d+)\//.exec(out);
    assert.ok(proxy && status && https, out);
    assert.equal(Number(proxy[2]), port, "LB_DEMO_PORT is the proxy port");
    const admin = status[1];
    const services = bannerServices(out);
    assert.deepEqual(
      services.map((s) => [s.name, s.strategy, s.backends.map((b) => b.name)]),
      [
        ["web", "least_connections", ["fast-1", "fast-2", "slow", "flaky"]],
        ["api", "least_connections", ["steady", "spiky"]],
      ],
      "--strategy (here LB_DEMO_STRATEGY, as a Go alias) sets both services",
    );

    // The first request after the banner is answered by a backend: the first health round is done.
    const first = await fetch(proxy[1]);
    assert.equal(first.status, 200);
    assert.match(first.headers.get("x-lb-backend") ?? "", /^(fast-1|fast-2|slow|flaky)$/);
    assert.equal((await first.json()).backend, first.headers.get("x-lb-backend"));

    // The background load reaches both services, without any request of ours.
    await waitFor(
      async () => Object.values(await servedPerService(admin)).every((n) => n >= 20),
      8_000,
      "background load in both services' /api/stats",
    );
    const metrics = parseMetrics(await (await fetch(`${admin}/metrics`)).text());
    for (const name of ["web", "api"]) {
      const total = [...metrics].filter(([k]) =>
        k.startsWith("lb_requests_total{") && k.includes(`service="${name}"`)
      ).reduce((n, [, v]) => n + v, 0);
      assert.ok(total >= 20, `lb_requests_total{service="${name}"} is ${total}`);
    }

    // Every curl line of a service reaches that service's backends, and only them (the load's
    // clients cannot send Host, so the host route is checked here). node:http keeps our Host.
    for (const service of services) {
      assert.ok(service.tries.length >= 1, `${service.name} has a curl line`);
      const names = service.backends.map((b) => b.name);
      for (const t of service.tries) {
        for (let i = 0; i < 4; i++) {
          const r = await nodeRequest(t.url, t.host === undefined ? {} : { headers: { host: t.host } });
          assert.ok(
            names.includes(r.header("x-lb-backend") ?? ""),
            `${t.host ?? ""} ${t.url} -> ${r.header("x-lb-backend")}, not one of ${service.name}'s ${names}`,
          );
        }
      }
    }
    assert.ok(services[1].tries.some((t) => t.host), "api is also reached by host");
    const stripped = await (await fetch(`${proxy[1]}api/echo?x=1`)).json();
    assert.deepEqual([stripped.path, stripped.query], ["/echo", { x: "1" }], "/api is stripped for api");

    // The api switch line switches api alone.
    const switched = await fetch(services[1].switchUrl, { method: "PUT", body: '{"strategy":"peak_ewma"}' });
    assert.deepEqual(await switched.json(), {
      service: "api",
      strategy: "peak_ewma",
      previous: "least_connections",
    });
    const stats = await (await fetch(`${admin}/api/stats`)).json() as { services: { strategy: string }[] };
    assert.deepEqual(stats.services.map((s) => s.strategy), ["least_connections", "peak_ewma"]);

    child.kill("SIGINT");
    const { code } = await child.status;
    assert.equal(code, 0, await stderr);
    const ports = services.flatMap((s) => s.backends.map((b) => b.port));
    for (const p of [port, Number(status[2]), Number(https[1]), ...ports]) {
      assert.ok(released(p), `port ${p} is released`);
    }
    const log = await stderr;
    assert.match(log, /stopping: load, proxy, backends/);
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

/** Start `deno task demo` on free ports with `args`, its output readable line by line. */
async function spawnDemo(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...await taskPermissions("demo"), DEMO, "--port", "0", "--admin-port", "0", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const err = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  return { child, out, err };
}

Deno.test("deno task demo finishes stopping when a second SIGINT comes (one Ctrl-C under deno task sends two)", async () => {
  const { child, out, err } = await spawnDemo(["--tls-port", "0"]);
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

Deno.test("deno task demo --access-log prints one common-format line per request", async () => {
  const { child, out, err } = await spawnDemo(["--no-tls", "--access-log"]);
  try {
    const banner = await readUntil(out, /Ctrl-C stops everything\./);
    const proxy = /proxy +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(banner)![1];
    const r = await fetch(`${proxy}api/items?id=7`, { headers: { "user-agent": "demo-test" } });
    await r.body?.cancel();
    const text = await readUntil(out, /"GET \/api\/items\?id=7 HTTP\/1\.1"/);
    const line = text.split("\n").find((l) => l.includes("/api/items?id=7"))!;
    assert.match(
      line,
      new RegExp(
        `^127\\.0\\.0\\.1 - - \\[[^\\]]+\\] "GET /api/items\\?id=7 HTTP/1\\.1" ${r.status} (\\d+|-) "-" "demo-test" ` +
          `\\S+ [0-9a-f]{32} "api" "routes\\[\\d\\]" "[a-z0-9_.-]+" [12] [\\d.]+ [\\d.]+ms$`,
      ),
    );
    child.kill("SIGINT");
    assert.equal((await child.status).code, 0);
  } finally {
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
        "--no-tls",
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
    value: {
      port: 9090,
      adminPort: 9091,
      tlsPort: 8443,
      strategy: "least_connections",
      load: true,
      rate: 100,
      accessLog: false,
    },
  });
  const logged = parseDemoArgs([], (n) => n === "LB_DEMO_ACCESS_LOG" ? "1" : undefined);
  assert.ok(logged.ok && logged.value !== "help" && logged.value.accessLog);
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

Deno.test("parseDemoArgs() takes --tls-port or LB_DEMO_TLS_PORT, --no-tls or LB_DEMO_NO_TLS, and refuses a clash", () => {
  const tlsPort = (args: string[], env: Record<string, string> = {}) => {
    const parsed = parseDemoArgs(args, (name) => env[name]);
    return parsed.ok ? parsed.value !== "help" && parsed.value.tlsPort : parsed.errors;
  };
  assert.equal(tlsPort([]), 8443);
  assert.equal(tlsPort(["--tls-port", "0"]), 0);
  assert.equal(tlsPort([], { LB_DEMO_TLS_PORT: "9443" }), 9443);
  assert.equal(tlsPort(["--tls-port=9444"], { LB_DEMO_TLS_PORT: "9443" }), 9444, "the flag wins");
  assert.equal(tlsPort(["--no-tls"]), null);
  assert.equal(tlsPort([], { LB_DEMO_NO_TLS: "1" }), null);
  assert.equal(tlsPort(["--no-tls"], { LB_DEMO_TLS_PORT: "9443" }), null, "the flag wins over the variable");
  assert.deepEqual(tlsPort(["--no-tls", "--tls-port", "9443"]), [
    "Cannot use --tls-port with --no-tls: one serves HTTPS, the other none",
  ]);
  assert.deepEqual(tlsPort(["--tls-port", "8081"]), [
    "Cannot use --tls-port: it must differ from --admin-port, both are 8081",
  ]);
  assert.deepEqual(tlsPort(["--port", "9000", "--tls-port", "9000"]), [
    "Cannot use --tls-port: it must differ from --port, both are 9000",
  ]);
  assert.deepEqual(tlsPort(["--tls-port", "https"]), [
    `Cannot use --tls-port: expected an integer in [0, 65535], got "https"`,
  ]);
  assert.equal(tlsPort(["--port", "0", "--admin-port", "0", "--tls-port", "0"]), 0, "0 is never a clash");
});

Deno.test("DEMO_ROUTES reach every demo service by a path the load can use, and routeRequest() builds the URL", () => {
  const proxy = "http://127.0.0.1:8080/";
  for (const service of DEMO_SERVICES) {
    const byPath = DEMO_ROUTES.filter((r) => r.service === service.name && r.host === undefined);
    assert.ok(byPath.length >= 1, `${service.name} has a route without host`);
  }
  assert.deepEqual(DEMO_ROUTES.map((r) => routeRequest(r, proxy)), [
    { url: "http://127.0.0.1:8080/api/" },
    { url: "http://127.0.0.1:8080/", host: "api.localhost" },
    { url: "http://127.0.0.1:8080/" },
  ]);
  assert.deepEqual(routeRequest({ pathPrefix: "/v1/x/", service: "s" }, proxy), {
    url: "http://127.0.0.1:8080/v1/x/",
  });
});
