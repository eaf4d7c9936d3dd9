/**
 * `deno task demo`'s HTTPS and WebSocket echo, end to end: the real task's command and
 * permissions, the lines its banner prints run as printed (curl, `deno eval`), the npm `ws`
 * client over `ws://` and `wss://`, and the certificate files it writes and removes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEMO_CERT_ROOT } from "../../demo/demo_cert.ts";
import { parseMetrics } from "../_util/harness.ts";
import { taskPermissions } from "../_util/task.ts";
import { gatedTest, needs } from "../_util/tools.ts";
import { closed, nextMessage, WebSocket } from "../_util/ws.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DEMO = `${ROOT}demo/demo.ts`;
const WEB_BACKENDS = ["fast-1", "fast-2", "slow", "flaky"];

/** What the banner's lines above the services say about HTTPS and the WebSocket echo. */
interface BannerEdge {
  readonly proxy: string;
  readonly admin: string;
  readonly https?: string;
  readonly certFile?: string;
  readonly ws: string;
  readonly wss?: string;
  /** The `try https` line's arguments after `curl`. */
  readonly curl?: string[];
  /** The `try ws` lines: `deno eval [--cert FILE] "CODE"`. */
  readonly evals: { readonly certFile?: string; readonly code: string }[];
}

/** The banner's head (before the first service), parsed strictly: a line that fits no shape fails. */
function bannerEdge(banner: string): BannerEdge {
  const head = banner.slice(0, banner.search(/^service /m)).trimEnd().split("\n");
  assert.match(head[0], /^lb demo: 2 services, 6 backends on loopback/);
  const edge: Record<string, unknown> = { evals: [] };
  const evals = edge.evals as { certFile?: string; code: string }[];
  let label = "";
  for (const line of head.slice(1)) {
    const cols = /^ {2}(\S+(?: \S+)?|) {2,}(.*)$/.exec(line);
    assert.ok(cols, `banner line: ${line}`);
    label = cols[1] || label;
    const value = cols[2];
    const shapes: Record<string, RegExp> = {
      proxy: /^(http:\/\/127\.0\.0\.1:\d+\/)$/,
      https: /^(https:\/\/localhost:\d+\/) \(HTTP\/2 and HTTP\/1\.1, the same routes\)$/,
      certificate:
        /^(\/\S+\/cert\.pem) \(self-signed for localhost, 127\.0\.0\.1, ::1; expires \d{4}-\d\d-\d\d \d\d:\d\d UTC; removed at exit\)$/,
      websocket:
        /^(ws:\/\/127\.0\.0\.1:\d+\/ws)(?: (wss:\/\/localhost:\d+\/ws))? \(echo, answered by web's backends\)$/,
      "status page": /^(http:\/\/127\.0\.0\.1:\d+)\/$/,
      metrics: /^http:\/\/127\.0\.0\.1:\d+\/metrics$/,
      stats: /^http:\/\/127\.0\.0\.1:\d+\/api\/stats$/,
      "try https": /^curl (-i --cacert \S+ https:\/\/localhost:\d+\/)$/,
      "try ws": /^deno eval (?:--cert (\S+) )?"([^"]+)"$/,
    };
    const shape = shapes[label];
    assert.ok(shape, `unexpected banner label "${label}": ${line}`);
    const m = shape.exec(value);
    assert.ok(m, `banner line for ${label}: ${line}`);
    if (label === "proxy") edge.proxy = m[1];
    else if (label === "https") edge.https = m[1];
    else if (label === "certificate") edge.certFile = m[1];
    else if (label === "websocket") [edge.ws, edge.wss] = [m[1], m[2]];
    else if (label === "status page") edge.admin = m[1];
    else if (label === "try https") edge.curl = m[1].split(" ");
    else if (label === "try ws") {
      evals.push(m[1] === undefined ? { code: m[2] } : { certFile: m[1], code: m[2] });
    }
  }
  return edge as unknown as BannerEdge;
}

/** A demo started as `deno task demo` starts it, read up to the end of its banner. */
interface RunningDemo {
  readonly child: Deno.ChildProcess;
  readonly banner: string;
  readonly edge: BannerEdge;
  /** SIGINT, then the exit code and everything on stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Start `deno task demo`'s command with `args` (and free proxy and admin ports) and `env`. */
async function startDemoTask(args: string[], env: Record<string, string> = {}): Promise<RunningDemo> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...await taskPermissions("demo"), DEMO, "--port", "0", "--admin-port", "0", ...args],
    env,
    cwd: ROOT, // the task's relative --allow-read/--allow-write paths are relative to the root
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let banner = "";
  try {
    while (!banner.includes("Ctrl-C stops everything.")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`demo exited early:\n${banner}\n${await stderr}`);
      banner += value;
    }
  } catch (e) {
    child.kill();
    await child.status;
    throw e;
  }
  let stopped: Promise<{ code: number; stderr: string }> | undefined;
  return {
    child,
    banner,
    edge: bannerEdge(banner),
    stop: () =>
      stopped ??= (async () => {
        try {
          child.kill("SIGINT");
        } catch { /* exited */ }
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        const { code } = await child.status;
        clearTimeout(timer);
        await reader.cancel().catch(() => {});
        return { code, stderr: await stderr };
      })(),
  };
}

/** Whether `path` exists. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Open a `ws` client; resolves once open, with the backend the proxy named on the 101. */
function openWs(url: string, options: WebSocket.ClientOptions = {}): Promise<[WebSocket, string]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    let backend = "";
    ws.once("upgrade", (res) => void (backend = String(res.headers["x-lb-backend"])));
    ws.once("open", () => resolve([ws, backend]));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode} instead of 101`)));
  });
}

/** Text and binary through `ws` and back, then a clean close with 1000. */
async function assertEchoes(ws: WebSocket, label: string): Promise<void> {
  ws.send(`hello over ${label}`);
  const [text, textIsBinary] = await nextMessage(ws);
  assert.deepEqual([text.toString(), textIsBinary], [`hello over ${label}`, false], label);
  const binary = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256);
  ws.send(binary);
  const [data, isBinary] = await nextMessage(ws);
  assert.equal(isBinary, true, label);
  assert.deepEqual(new Uint8Array(data), binary, label);
  ws.close(1000, "bye");
  assert.deepEqual(await closed(ws), [1000, "bye"], label);
}

async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(command, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const text = new TextDecoder();
  return { code: output.code, stdout: text.decode(output.stdout), stderr: text.decode(output.stderr) };
}

Deno.test("deno task demo serves HTTPS with the certificate it made for localhost, and a WebSocket echo over ws:// and wss://, then removes the certificate", async () => {
  const demo = await startDemoTask(["--tls-port", "0"]);
  try {
    const { edge } = demo;
    assert.ok(edge.https && edge.certFile && edge.wss && edge.curl, demo.banner);
    const runDir = `${DEMO_CERT_ROOT}/run-${demo.child.pid}`;
    assert.equal(edge.certFile, `${runDir}/cert.pem`, "the run's own folder under .cache/demo-tls");
    assert.equal((await Deno.stat(`${runDir}/key.pem`)).mode! & 0o777, 0o600, "the key is the owner's only");
    const ca = await Deno.readTextFile(edge.certFile);

    // HTTPS answers with the same routes as the plain listener, trusted by the certificate file alone.
    const client = Deno.createHttpClient({ caCerts: [ca] });
    try {
      const web = await fetch(edge.https, { client });
      assert.equal(web.status, 200);
      assert.ok(WEB_BACKENDS.includes((await web.json()).backend));
      const api = await (await fetch(`${edge.https}api/echo?x=1`, { client })).json();
      assert.deepEqual([api.path, api.headers["x-forwarded-proto"]], ["/echo", "https"]);
      await assert.rejects(
        fetch(edge.https),
        (e: Error) => /invalid peer certificate: UnknownIssuer/.test(String(e.cause)),
        "without the file, the certificate is not trusted",
      );
    } finally {
      client.close();
    }

    // The echo, through the proxy to a web backend, over both schemes (npm ws; wss trusting the file).
    const [plain, plainBackend] = await openWs(edge.ws);
    assert.ok(WEB_BACKENDS.includes(plainBackend), `ws:// answered by ${plainBackend}`);
    await assertEchoes(plain, "ws://");
    const [secure, secureBackend] = await openWs(edge.wss, { ca });
    assert.ok(WEB_BACKENDS.includes(secureBackend), `wss:// answered by ${secureBackend}`);
    await assertEchoes(secure, "wss://");
    await assert.rejects(openWs(edge.wss), /certificate/i, "wss:// without the file is refused");

    // The banner's `deno eval` lines, run as printed: each prints the echo of "hello".
    assert.equal(edge.evals.length, 2);
    assert.deepEqual(edge.evals.map((e) => [e.certFile, /'(wss?:\/\/[^']+)'/.exec(e.code)?.[1]]), [
      [undefined, edge.ws],
      [edge.certFile, edge.wss],
    ]);
    for (const e of edge.evals) {
      const args = ["eval", ...(e.certFile ? ["--cert", e.certFile] : []), e.code];
      const out = await run(Deno.execPath(), args, { NO_COLOR: "1" });
      assert.deepEqual([out.code, out.stdout], [0, "hello\n"], `deno ${args.join(" ")}\n${out.stderr}`);
    }

    const { code, stderr } = await demo.stop();
    assert.equal(code, 0, stderr);
    assert.equal(await exists(runDir), false, `${runDir} is removed at exit`);
  } finally {
    await demo.stop();
  }
});

gatedTest(
  "deno task demo: the banner's curl line for HTTPS works as printed, over HTTP/2, and over HTTP/1.1 too",
  needs("curl"),
  async () => {
    const demo = await startDemoTask([], { LB_DEMO_TLS_PORT: "0" });
    try {
      const { edge } = demo;
      assert.ok(edge.curl && edge.https, demo.banner);
      const [head, ...headers] = (await run("curl", ["-sS", "--max-time", "10", ...edge.curl])).stdout
        .split("\r\n\r\n")[0].split("\r\n");
      assert.equal(head.trim(), "HTTP/2 200");
      const backend = headers.find((h) => h.startsWith("x-lb-backend: "))?.slice(14);
      assert.ok(WEB_BACKENDS.includes(backend ?? ""), headers.join("\n"));
      const h1 = await run("curl", ["-sS", "--max-time", "10", "--http1.1", ...edge.curl]);
      assert.match(h1.stdout, /^HTTP\/1\.1 200 /, h1.stderr);
      const untrusted = await run("curl", ["-sS", "--max-time", "10", edge.https]);
      assert.equal(untrusted.code, 60, `curl without --cacert: ${untrusted.stderr}`);
      const metrics = parseMetrics(await (await fetch(`${edge.admin}/metrics`)).text());
      const byProtocol = (protocol: string) =>
        [...metrics].filter(([k]) =>
          k.startsWith("lb_requests_total{") && k.includes(`service="web"`) &&
          k.includes(`protocol="${protocol}"`)
        ).reduce((n, [, v]) => n + v, 0);
      assert.deepEqual([byProtocol("h2"), byProtocol("http/1.1")], [1, 1], "one request each, as counted");
    } finally {
      const { code, stderr } = await demo.stop();
      assert.equal(code, 0, stderr);
    }
  },
);

Deno.test("deno task demo --no-tls serves no HTTPS, writes no certificate, and still echoes on ws://", async () => {
  const demo = await startDemoTask(["--no-tls"]);
  try {
    const { edge } = demo;
    assert.deepEqual([edge.https, edge.certFile, edge.wss, edge.curl], [
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    assert.doesNotMatch(demo.banner, /https|wss|certificate/);
    assert.equal(await exists(`${DEMO_CERT_ROOT}/run-${demo.child.pid}`), false);
    assert.deepEqual(edge.evals.map((e) => e.certFile), [undefined]);
    const [ws] = await openWs(edge.ws);
    await assertEchoes(ws, "ws://");
  } finally {
    const { code, stderr } = await demo.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("deno task demo exits 1 naming --tls-port when the HTTPS port is taken, and leaves no certificate behind", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...await taskPermissions("demo"),
        DEMO,
        ...["--port", "0", "--admin-port", "0", "--tls-port", String(taken.addr.port)],
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = await child.output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1, stderr);
    assert.match(
      stderr,
      new RegExp(
        `^Cannot start the demo on 127\\.0\\.0\\.1:0 \\(admin 0, https ${taken.addr.port}\\): ` +
          `tls\\.listen: cannot listen on 127\\.0\\.0\\.1:${taken.addr.port}: address already in use\\n` +
          `Pick other ports with --port, --admin-port and --tls-port .*, or serve no HTTPS with --no-tls\\.\\n$`,
        "m",
      ),
    );
    assert.equal(await exists(`${DEMO_CERT_ROOT}/run-${child.pid}`), false, "the certificate is removed");
  } finally {
    taken.close();
  }
});

Deno.test("deno task demo, denied writing its certificate folder, exits 1 with one line saying where and what to do", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...await taskPermissions("demo", { "--allow-write": "--allow-write=.cache/elsewhere" }),
      DEMO,
      ...["--port", "0", "--admin-port", "0", "--tls-port", "0"],
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 1, stderr);
  assert.equal(new TextDecoder().decode(output.stdout), "", "no banner");
  assert.match(
    stderr,
    /^Cannot write the demo's certificate to \/\S+\/\.cache\/demo-tls\/run-\d+: not allowed by Deno's --allow-write; run it as `deno task demo` \(which may write there\), or serve no HTTPS with --no-tls\n$/,
  );
});

/** Why git cannot say what this checkout ignores, or undefined when it can. */
function noGitCheckout(): string | undefined {
  const missing = needs("git")();
  if (missing) return missing;
  const inside = new Deno.Command("git", {
    args: ["rev-parse", "--is-inside-work-tree"],
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  })
    .outputSync();
  return inside.success ? undefined : `${ROOT} is not a git checkout`;
}

gatedTest(
  "the demo's certificate folder is one git ignores: a run never dirties the tree",
  noGitCheckout,
  async () => {
    const file = `${DEMO_CERT_ROOT}/run-1/cert.pem`;
    const ignored = await run("git", ["-C", ROOT, "check-ignore", "--no-index", "-v", file]);
    assert.equal(ignored.code, 0, `git check-ignore ${file}: ${ignored.stdout}${ignored.stderr}`);
    assert.match(ignored.stdout, /^\.gitignore:\d+:\.cache\/\t/);
    const tracked = await run("git", ["-C", ROOT, "ls-files", "--", DEMO_CERT_ROOT]);
    assert.equal(tracked.stdout, "", "nothing under it is tracked");
  },
);
