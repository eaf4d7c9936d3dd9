import assert from "node:assert/strict";
import { VERSION } from "../lib/version.ts";
import { startBackend } from "./_util/harness.ts";

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

Deno.test("main --check exits 1 with one line per error and no stack trace", async () => {
  const path = await tempConfig("backends:\n  - url: http://127.0.0.1:9001\n    weight: -2\n");
  const r = await run(["--check"], { LB_CONFIG: path });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    `${path}:3: backends[0].weight: must be a positive integer (1..10000), got -2`,
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
    await new Promise((r) => setTimeout(r, 200));
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
