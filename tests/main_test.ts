import assert from "node:assert/strict";
import { parseMetrics, startBackend, waitFor } from "./_util/harness.ts";
import { billionLaughs } from "./_util/hostile.ts";
import { runMain, spawnLb } from "./_util/process.ts";

const HEALTH =
  "health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";
const configFor = (urls: string[], extra = "") =>
  `listen: "127.0.0.1:0"\nadmin: {listen: "127.0.0.1:0"}\n${HEALTH}\n${extra}\nbackends:\n${
    urls.map((u, i) => `  - {name: b${i}, url: "${u}"}`).join("\n")
  }\n`;

Deno.test("main() on SIGTERM finishes every in-flight request before exiting", async () => {
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

Deno.test("main() reloads its config file on SIGHUP and keeps the old one when the file is broken", async () => {
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

Deno.test("main() --check prints one line per error for hostile config files and never hangs", async () => {
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
