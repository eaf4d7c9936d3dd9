import assert from "node:assert/strict";
import { VERSION } from "../lib/base/version.ts";
import { billionLaughs } from "./_util/hostile.ts";
import { parseMetrics, startBackend, waitFor } from "./_util/harness.ts";
import { runMain, spawnLb } from "./_util/process.ts";
import { FIXED_CA_PEM, makeCa } from "./_util/tls.ts";
import { gatedTest, needs, which } from "./_util/tools.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
/** The same permissions as `deno task start`: a test fails if main.ts needs more. */
const PERMS = ["--allow-net", "--allow-read", "--allow-env", "--allow-sys"];

async function run(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, MAIN, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function tempConfig(text: string): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/config.yml`, text);
  return `${dir}/config.yml`;
}

Deno.test("main --check validates the shipped config.yml and prints a summary", async () => {
  const r = await run(["--check", "--config", new URL("../config.yml", import.meta.url).pathname]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /config\.yml: OK/);
  assert.match(r.stdout, /strategy\s+round_robin/);
  assert.match(r.stdout, /b1\s+http:\/\/127\.0\.0\.1:9001/);
});

Deno.test("main --check shows hedging and sticky sessions, never the sticky secret", async () => {
  const path = await tempConfig(
    'hedging: {delay: p95, max_ratio: 0.05}\nsticky: {secret: "${LB_STICKY_SECRET}", max_age: 30m}\n' +
      "backends:\n  - url: http://127.0.0.1:9001\n",
  );
  const r = await run(["--check", "--config", path], { LB_STICKY_SECRET: "do-not-print-me" });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /hedging +after the service's p95 time to response headers, at most 5% of requests/);
  assert.match(r.stdout, /sticky +cookie lb_sticky, max age 30m \(secret set\)/);
  assert.ok(!r.stdout.includes("do-not-print-me"));
  const unset = await run(["--check", "--config", path], { LB_STICKY_SECRET: "" });
  assert.equal(unset.code, 1);
  assert.match(
    unset.stderr.trim(),
    /^[^\n]*:2: sticky.secret: environment variable LB_STICKY_SECRET is not set/,
  );
});

Deno.test("main --check exits 1 with one line per error and no stack trace", async () => {
  const path = await tempConfig("backends:\n  - url: http://127.0.0.1:9001\n    weight: -2\n");
  const r = await run(["--check"], { LB_CONFIG: path });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    `${path}:3: backends[0].weight: must be a positive integer (1..10000), got -2`,
  );
});

Deno.test("main --check reads backends[].tls.ca next to the config and names a missing one", async () => {
  const path = await tempConfig(
    "backends:\n  - {name: api, url: https://10.0.0.5:8443, tls: {ca: ca.pem, server_name: api.internal}}\n",
  );
  const dir = path.slice(0, path.lastIndexOf("/"));
  const missing = await run(["--check", "--config", path]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr.trim(),
    `${path}:2: backends[0].tls.ca: cannot read "${dir}/ca.pem": file not found`,
  );
  await Deno.writeTextFile(`${dir}/ca.pem`, FIXED_CA_PEM);
  const ok = await run(["--check", "--config", path]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(
    ok.stdout,
    new RegExp(
      `api +https://10\\.0\\.0\\.5:8443  weight 1  server_name api\\.internal  ca ${dir}/ca\\.pem \\(1 certificate\\)`,
    ),
  );
});

Deno.test("main --check shows how a prequal service probes", async () => {
  const path = await tempConfig(
    "strategy: prequal\nprequal: {probe_rate: 0.5, max_age: 500ms}\nbackends:\n  - url: http://127.0.0.1:9001\n",
  );
  const r = await run(["--check", "--config", path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /probes +GET \/health, 0\.5 per request, at most 50% of backend traffic, pool 16, q_rif 1, max age 500ms/,
  );
});

Deno.test("main --check says how swarm discovery lists backends and what it falls back to", async () => {
  const path = await tempConfig(`discovery:
  docker:
    enabled: true
    mode: swarm
    label: lb.stack=demo
    network: demo-net
    poll_interval: 2s
    dns_fallback: [{name: backend, port: 9001}]
`);
  const r = await run(["--check", "--config", path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /docker +\/var\/run\/docker\.sock: discovery of swarm services labelled lb\.stack=demo on demo-net, listed every 2s, DNS fallback tasks\.backend:9001, container stats/,
  );
});

Deno.test("main --strategy overrides the file and rejects unknown names", async () => {
  const path = await tempConfig("strategy: round_robin\nbackends:\n  - url: http://127.0.0.1:9001\n");
  const ok = await run(["--check", "--config", path, "--strategy", "RoundRobin"]);
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await run(["--check", "--config", path, "--strategy", "fastest"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--strategy: unknown strategy "fastest"; valid: .*round_robin/);
});

Deno.test("main --version, --help and bad flags", async () => {
  assert.equal((await run(["--version"])).stdout.trim(), VERSION);
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--config PATH/);
  const bad = await run(["--bogus"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bogus/);
});

Deno.test("main finishes in-flight requests on SIGTERM and exits 0", async () => {
  const be = startBackend(async () => {
    await new Promise((r) => setTimeout(r, 700));
    return new Response("finished");
  });
  const path = await tempConfig(
    `listen: "127.0.0.1:0"\nadmin: {listen: "127.0.0.1:0"}\nshutdown_timeout: 5s\nbackends:\n  - url: ${be.url}\n`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, MAIN, "--config", path],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  try {
    let port = 0;
    while (!port) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`main exited early:\n${log}`);
      log += value;
      port = Number(/listening proxy=127\.0\.0\.1:(\d+)/.exec(log)?.[1] ?? 0);
    }
    const pending = Array.from({ length: 5 }, () => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()));
    await waitFor(() => be.seen.length === 5, 10_000, "all five requests at the backend");
    child.kill("SIGTERM");
    assert.deepEqual(await Promise.all(pending), Array(5).fill("finished"));
    const status = await child.status;
    assert.equal(status.code, 0);
    await fetch(`http://127.0.0.1:${port}/`).then(
      () => assert.fail("listener should be closed after shutdown"),
      () => {},
    );
  } finally {
    try {
      child.kill();
    } catch { /* exited */ }
    for (let x = await lines.read(); !x.done; x = await lines.read()) log += x.value;
    await child.stdout.cancel();
    await be.close();
  }
});

const HEALTH =
  "health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";
const configFor = (urls: string[], extra = "") =>
  `listen: "127.0.0.1:0"\nadmin: {listen: "127.0.0.1:0"}\n${HEALTH}\n${extra}\nbackends:\n${
    urls.map((u, i) => `  - {name: b${i}, url: "${u}"}`).join("\n")
  }\n`;

Deno.test("main on SIGTERM under load finishes all 60 in-flight requests before exiting", async () => {
  let arrived = 0;
  const be = startBackend(async () => {
    arrived++;
    await new Promise((r) => setTimeout(r, 700));
    return new Response("finished");
  });
  const lb = await spawnLb(configFor([be.url], "shutdown_timeout: 10s"));
  try {
    const requests = Array.from(
      { length: 60 },
      () =>
        fetch(`${lb.url}/slow`).then(async (r) => `${r.status} ${await r.text()}`).catch((e) => String(e)),
    );
    await waitFor(() => arrived === 60, 5000, "60 requests in flight at the backend");
    lb.child.kill("SIGTERM");
    const outcomes = await Promise.all(requests);
    assert.deepEqual(new Set(outcomes), new Set(["200 finished"]), "none cut");
    const status = await lb.exited();
    assert.equal(status.code, 0);
    assert.ok(
      lb.log.some((l) => l.includes("shutting down") && l.includes("in_flight=60")),
      lb.log.join("\n"),
    );
    await assert.rejects(fetch(`${lb.url}/`), "no longer listening");
  } finally {
    await lb.cleanup();
    await be.close();
  }
});

Deno.test("main reloads its config file on SIGHUP and keeps the old one when the file is broken", async () => {
  const a = startBackend(() => new Response("a"));
  const b = startBackend(() => new Response("b"));
  const lb = await spawnLb(configFor([a.url]));
  const metric = async (name: string) =>
    parseMetrics(await (await fetch(`${lb.adminUrl}/metrics`)).text()).get(name);
  try {
    assert.equal(await (await fetch(lb.url)).text(), "a");
    await Deno.writeTextFile(lb.configPath, "backends: {{{\n");
    lb.child.kill("SIGHUP");
    await waitFor(
      async () => (await metric('lb_config_reloads_total{result="failure"}')) === 1,
      5000,
      "failed reload",
    );
    assert.equal(await (await fetch(lb.url)).text(), "a", "old config still serving");
    assert.ok(lb.log.some((l) => l.includes("ERROR config reload failed")));

    await Deno.writeTextFile(
      lb.configPath,
      configFor([b.url]).replace('listen: "127.0.0.1:0"', 'listen: "127.0.0.1:1"'),
    );
    lb.child.kill("SIGHUP");
    await waitFor(
      async () => (await metric('lb_config_reloads_total{result="success"}')) === 1,
      5000,
      "reload",
    );
    await waitFor(
      async () => (await (await fetch(lb.url)).text()) === "b",
      5000,
      "traffic on the new backend",
    );
    assert.ok(lb.log.some((l) => l.includes("WARN listener address changes need a restart")));
  } finally {
    await lb.cleanup();
    await Promise.all([a.close(), b.close()]);
  }
});

/** Send one HTTP/1.1 GET on `conn` and read its response (Content-Length framed) to the end. */
async function getOn(conn: Deno.Conn, path: string): Promise<string> {
  await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
  let text = "";
  const buf = new Uint8Array(4096);
  while (true) {
    const end = text.indexOf("\r\n\r\n");
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? NaN);
    if (end !== -1 && text.length >= end + 4 + length) return text;
    const n = await conn.read(buf);
    if (n === null) throw new Error(`closed before a whole response: ${JSON.stringify(text)}`);
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
}

gatedTest(
  "main rotates its TLS certificate on SIGHUP: new connections get the new one, an open one keeps working",
  needs("openssl"),
  async () => {
    // Two CAs: a client trusting only B's fails the handshake while A's certificate is served and
    // succeeds once B's is, so this fails if SIGHUP does not re-read tls.cert/tls.key, or if the
    // rotation closes (or re-keys) connections that were already open.
    const [caA, caB] = [await makeCa("ca-a"), await makeCa("ca-b")];
    const pairA = await caA.issue("localhost", "127.0.0.1");
    const pairB = await caB.issue("localhost", "127.0.0.1");
    const be = startBackend((req) => new Response(`served ${new URL(req.url).pathname}`));
    const tls = (p: typeof pairA) =>
      `tls: {listen: "127.0.0.1:0", cert: "${p.certFile}", key: "${p.keyFile}"}`;
    const lb = await spawnLb(configFor([be.url], tls(pairA)));
    // The listening line names the TLS address: tls="127.0.0.1:PORT (h2, http/1.1)".
    const port = Number(
      / tls="?127\.0\.0\.1:(\d+)/.exec(lb.log.find((l) => l.includes(" listening ")) ?? "")?.[1],
    );
    const opened: Deno.Conn[] = [];
    /** A new TLS connection to the listener trusting only `caPem`; rejects when the handshake fails. */
    const connect = async (caPem: string) => {
      const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [caPem] });
      opened.push(conn);
      await conn.handshake();
      return conn;
    };
    const fresh = async (caPem: string, path: string) => {
      const conn = await connect(caPem);
      try {
        return await getOn(conn, path);
      } finally {
        conn.close();
      }
    };
    try {
      assert.ok(port > 0, lb.log.join("\n"));
      await assert.rejects(connect(caB.caPem), /certificate|UnknownIssuer/i, "A's certificate is served");
      const kept = await connect(caA.caPem);
      assert.match(await getOn(kept, "/before"), /^HTTP\/1\.1 200 [\s\S]*served \/before$/);

      // The same file but for the pair, on the ports bound: the config in effect holds those, so
      // ports 0 again would read as listener changes (a warning, nothing else).
      const addr = (url: string) => url.replace("http://", "");
      await Deno.writeTextFile(
        lb.configPath,
        configFor([be.url], tls(pairB).replace("127.0.0.1:0", `127.0.0.1:${port}`))
          .replace('listen: "127.0.0.1:0"', `listen: "${addr(lb.url)}"`)
          .replace('admin: {listen: "127.0.0.1:0"}', `admin: {listen: "${addr(lb.adminUrl)}"}`),
      );
      lb.child.kill("SIGHUP");
      await waitFor(() => lb.log.some((l) => l.includes("INFO config reloaded")), 5000, "the reload");
      assert.ok(
        lb.log.some((l) => l.includes(`tls certificate rotated cert=${pairB.certFile}`)),
        lb.log.join("\n"),
      );
      assert.match(await fresh(caB.caPem, "/new"), /served \/new$/, "a new connection gets B's certificate");
      await assert.rejects(connect(caA.caPem), /certificate|UnknownIssuer/i, "A's is no longer served");
      assert.match(
        await getOn(kept, "/kept"),
        /^HTTP\/1\.1 200 [\s\S]*served \/kept$/,
        "the connection opened before the rotation still serves",
      );
      assert.ok(!lb.log.some((l) => l.includes("need a restart")), lb.log.join("\n"));
    } finally {
      for (const c of opened) {
        try {
          c.close();
        } catch { /* closed already */ }
      }
      await lb.cleanup();
      await be.close();
      await Promise.all([caA.cleanup(), caB.cleanup()]);
    }
  },
);

Deno.test("main --check prints one line per error for hostile config files and never hangs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, string | Uint8Array, RegExp][] = [
      ["anchors.yml", billionLaughs(), /backends\[0\]: must be a mapping/],
      ["binary.yml", new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x89, 0x50]), /not UTF-8 text|not a text file/],
      ["empty.yml", "", /file is empty/],
      ["huge.yml", "#".repeat(2 << 20), /larger than 1 MiB/],
      [
        "nested.yml",
        "backends: " + "[".repeat(5000) + "]".repeat(5000) + "\n",
        /YAML syntax error: nested too deeply/,
      ],
    ];
    for (const [name, content, expected] of cases) {
      const path = `${dir}/${name}`;
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
      const r = await runMain(["--config", path, "--check"]);
      assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.ok(lines.length <= 20, `${name}: ${lines.length} lines`);
      for (const l of lines) {
        assert.ok(l.startsWith(path), `${name}: each line is one error about the file: ${l}`);
      }
      assert.match(r.stderr, expected, name);
      assert.doesNotMatch(r.stderr, /\bat \S+:\d+:\d+|Uncaught|panicked/, `${name}: no crash`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main exits 1 with one line naming the key and address when a port is taken", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  const backend = startBackend();
  try {
    for (
      const [yaml, key] of [
        [`listen: "127.0.0.1:${port}"\nadmin: {listen: "127.0.0.1:0"}`, "listen"],
        [`listen: "127.0.0.1:0"\nadmin: {listen: "127.0.0.1:${port}"}`, "admin.listen"],
      ]
    ) {
      const path = await tempConfig(`${yaml}\nbackends:\n  - url: ${backend.url}\n`);
      const r = await run(["--config", path]);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.equal(
        lines.at(-1),
        `${path}: ${key}: cannot listen on 127.0.0.1:${port}: address already in use`,
      );
      assert.ok(!/^\s+at /m.test(r.stderr), `no stack trace:\n${r.stderr}`);
    }
  } finally {
    taken.close();
    await backend.close();
  }
});

gatedTest(
  "the README's own-backend example: python3 -m http.server behind the shipped config.yml",
  () => which("python3") ? undefined : "python3 is not installed",
  async () => {
    const free = () => {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      l.close();
      return l.addr.port;
    };
    const [port, closed2, closed3] = [free(), free(), free()];
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/index.html`, "served by python\n");
    const python = new Deno.Command("python3", {
      args: ["-m", "http.server", String(port), "--bind", "127.0.0.1"],
      cwd: dir,
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitFor(
      () => Deno.connect({ hostname: "127.0.0.1", port }).then((c) => (c.close(), true), () => false),
      10_000,
      "python3 -m http.server listening",
    );
    const config = await Deno.readTextFile(new URL("../config.yml", import.meta.url));
    const lb = await spawnLb(config, undefined, {
      LB_LISTEN: "127.0.0.1:0",
      LB_ADMIN_LISTEN: "127.0.0.1:0",
      LB_BACKEND1: `127.0.0.1:${port}`,
      LB_BACKEND2: `127.0.0.1:${closed2}`,
      LB_BACKEND3: `127.0.0.1:${closed3}`,
    });
    try {
      const res = await fetch(`${lb.url}/`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "served by python\n");
      const down = lb.log.filter((l) => l.includes("unhealthy from its first check"));
      assert.equal(down.length, 2, lb.log.join("\n"));
      assert.match(down.join("\n"), new RegExp(`reason="connect ECONNREFUSED 127\\.0\\.0\\.1:${closed2}"`));
    } finally {
      await lb.cleanup();
      python.kill();
      await python.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("main reopens the access log on SIGUSR1 after logrotate moved it", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/access.log`;
  const be = startBackend();
  const lb = await spawnLb(
    configFor([be.url], `access_log: {enabled: true, path: "${path}"}`),
    [...PERMS, `--allow-write=${dir}`],
  );
  const paths = async (file: string) =>
    (await Deno.readTextFile(file).catch(() => "")).trimEnd().split("\n").filter(Boolean).map((l) =>
      JSON.parse(l).path
    );
  try {
    await (await fetch(`${lb.url}/one`)).text();
    await waitFor(async () => (await paths(path)).length === 1, 5000, "the first line");
    await Deno.rename(path, `${path}.1`);
    lb.child.kill("SIGUSR1");
    await waitFor(() => lb.log.some((l) => l.includes("access log reopened")), 5000, "the reopen");
    await (await fetch(`${lb.url}/two`)).text();
    lb.child.kill("SIGTERM");
    assert.equal((await lb.exited()).code, 0);
    assert.deepEqual(await paths(`${path}.1`), ["/one"]);
    assert.deepEqual(await paths(path), ["/two"], "flushed at shutdown into the new file");
  } finally {
    await lb.cleanup();
    await be.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main: a standard output nobody reads costs log lines, counted, never requests", async () => {
  const be = startBackend();
  // stdout is a pipe this test never reads: it fills (64 KiB), then the log's buffer (1 MiB).
  const lb = await spawnLb(configFor([be.url], "access_log: {enabled: true}"), PERMS, {}, "piped");
  try {
    let ok = 0;
    const worker = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const r = await fetch(`${lb.url}/${"p".repeat(1000)}`, { signal: AbortSignal.timeout(5000) });
        await r.text();
        if (r.status === 200) ok++;
      }
    };
    await Promise.all(Array.from({ length: 16 }, () => worker(125)));
    assert.equal(ok, 2000, "every request answered while the log could not be written");
    const m = parseMetrics(await (await fetch(`${lb.adminUrl}/metrics`)).text());
    const dropped = m.get('lb_access_log_dropped_total{reason="buffer_full"}') ?? 0;
    // About 1.4 KB per line: 2000 lines are 2.8 MB, more than the pipe and the buffer hold.
    assert.ok(dropped > 200 && dropped < 2000, `dropped ${dropped}`);
  } finally {
    await lb.cleanup();
    await be.close();
  }
});
