/**
 * Several certificates on one TLS listener, chosen by the server name the client sends (SNI):
 * curl over HTTP/1.1 and HTTP/2 sees the certificate issued for the name it asked for, the default
 * certificate for other names and for no SNI, and a reload that changes `tls.certificates` serves
 * the new set to new connections; a pair that does not load is refused with one line naming it.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../../lib/config/config.ts";
import { startBackend, startLb, startLbFrom, waitFor } from "../../_util/harness.ts";
import { makeCa } from "../../_util/tls.ts";
import { gatedTest, which } from "../../_util/tools.ts";

const needs = () => ["openssl", "curl"].find((t) => !which(t)) ? "openssl or curl not installed" : undefined;

/**
 * The subject CN of the certificate the TLS port serves for `name` (curl resolves it to
 * 127.0.0.1 and sends it as SNI; an IP literal sends none), and the answer's HTTP version.
 */
async function served(port: number, caFile: string, name: string, http2 = false) {
  const host = /^[\d.]+$/.test(name) ? name : `${name}:${port}:127.0.0.1`;
  const args = [
    "-sS",
    "-v",
    "-m",
    "5",
    "--cacert",
    caFile,
    http2 ? "--http2" : "--http1.1",
    "-w",
    "%{http_version}",
    ...(host === name ? [] : ["--resolve", host]),
    `https://${name}:${port}/x`,
  ];
  const out = await new Deno.Command("curl", { args, stdout: "piped", stderr: "piped" }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const cn = /subject: .*CN ?= ?([^,\s]+)/.exec(stderr)?.[1];
  return { code: out.code, cn, body: new TextDecoder().decode(out.stdout), stderr };
}

/** Files of a certificate and its key. */
type Pair = { readonly certFile: string; readonly keyFile: string };

/** The `tls` line: `first` as the default pair, `extra` as `tls.certificates`. */
const tlsYaml = (listen: string, first: Pair, extra: readonly Pair[]) =>
  `tls: {listen: "${listen}", cert: "${first.certFile}", key: "${first.keyFile}", certificates: [${
    extra.map((c) => `{cert: "${c.certFile}", key: "${c.keyFile}"}`).join(", ")
  }]}\n`;

gatedTest(
  "tls.certificates: each name gets its own certificate over HTTP/1.1 and HTTP/2, others the default",
  needs,
  async () => {
    const ca = await makeCa();
    const be = startBackend(() => new Response("ok "));
    const first = await ca.issue("localhost", "127.0.0.1");
    const a = await ca.issue("a.test");
    const w = await ca.issue("wild.w.test", "*.w.test");
    const lb = await startLb([be.url], tlsYaml("127.0.0.1:0", first, [a, w]));
    try {
      const port = lb.tlsAddr!.port;
      const listening = lb.logLines.find((l) => l.startsWith("info listening "));
      assert.match(listening ?? "", /"sni":"a\.test;wild\.w\.test,\*\.w\.test"/);
      for (const http2 of [false, true]) {
        const v = http2 ? "2" : "1.1";
        const got = await served(port, ca.caFile, "a.test", http2);
        assert.equal(got.code, 0, got.stderr);
        assert.equal(got.cn, "a.test");
        assert.equal(got.body, `ok ${v}`);
        assert.equal((await served(port, ca.caFile, "x.w.test", http2)).cn, "wild.w.test");
        assert.equal((await served(port, ca.caFile, "localhost", http2)).cn, "localhost");
        // No SNI (an IP literal) and a name no certificate covers: the default.
        const ip = await served(port, ca.caFile, "127.0.0.1", http2);
        assert.equal(ip.code, 0, ip.stderr);
        assert.equal(ip.cn, "localhost");
        const other = await served(port, ca.caFile, "y.x.w.test", http2);
        assert.equal(other.cn, "localhost");
        assert.notEqual(other.code, 0, "the default certificate does not cover y.x.w.test");
      }
    } finally {
      await lb.shutdown();
      await be.close();
      await ca.cleanup();
    }
  },
);

gatedTest(
  "reload: changed tls.certificates serve new connections; a broken pair is refused naming it, the set kept",
  needs,
  async () => {
    const ca = await makeCa();
    const be = startBackend(() => new Response("ok"));
    const first = await ca.issue("localhost", "127.0.0.1");
    const a = await ca.issue("a.test");
    const c = await ca.issue("c.test");
    const configPath = `${ca.dir}/lb.yml`;
    const lb = await startLb([be.url], tlsYaml("127.0.0.1:0", first, [a]), {
      configSource: () => loadConfig(configPath, () => undefined),
    });
    const write = (extra: Pair[]) =>
      Deno.writeTextFile(
        configPath,
        `listen: "127.0.0.1:${lb.proxyAddr.port}"\nadmin: {listen: "127.0.0.1:${lb.adminAddr.port}"}\n` +
          tlsYaml(`127.0.0.1:${lb.tlsAddr!.port}`, first, extra) +
          `backends:\n  - {name: b0, url: "${be.url}"}\n`,
      );
    const reload = async () => await (await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" })).json();
    try {
      const port = lb.tlsAddr!.port;
      assert.equal((await served(port, ca.caFile, "a.test")).cn, "a.test");
      await write([c]);
      const ok = await reload();
      assert.equal(ok.ok, true, JSON.stringify(ok));
      assert.equal((await served(port, ca.caFile, "c.test")).cn, "c.test");
      assert.equal((await served(port, ca.caFile, "a.test")).cn, "localhost", "a.test left the set");

      // A key that does not match its certificate: refused, naming the entry and its files.
      await write([c, { certFile: a.certFile, keyFile: c.keyFile }]);
      const bad = await reload();
      assert.equal(bad.ok, false);
      const text = JSON.stringify(bad);
      assert.match(
        text,
        /tls\.certificates\[1\]: .*a\.test-\d+\.pem and .*c\.test-\d+\.key do not load as a pair/,
      );
      // A certificate with no DNS name to choose it by.
      // (A CA whose CN has a space: no subjectAltName, and a CN that is no host name.)
      const unnamedCa = await makeCa("no name");
      await write([{ certFile: unnamedCa.caFile, keyFile: `${unnamedCa.dir}/no name.key` }]);
      const unnamed = await reload();
      await unnamedCa.cleanup();
      assert.equal(unnamed.ok, false);
      assert.match(JSON.stringify(unnamed), /tls\.certificates\[0\]\.cert: .* names no DNS name/);
      // A missing file.
      await write([{ certFile: `${ca.dir}/nope.pem`, keyFile: c.keyFile }]);
      assert.match(
        JSON.stringify(await reload()),
        /tls\.certificates\[0\]\.cert: cannot read .*nope\.pem: file not found/,
      );
      // The running set stays.
      assert.equal((await served(port, ca.caFile, "c.test")).cn, "c.test");
    } finally {
      await lb.shutdown();
      await be.close();
      await ca.cleanup();
    }
  },
);

gatedTest("workers: 2 choose certificates by SNI on both workers", needs, async () => {
  const ca = await makeCa();
  const be = startBackend(() => new Response("ok"));
  const first = await ca.issue("localhost", "127.0.0.1");
  const a = await ca.issue("a.test");
  const lb = await startLbFrom(
    `workers: 2\nhealth_check: {interval: 100ms, timeout: 5s, healthy_threshold: 1, unhealthy_threshold: 1}\n` +
      tlsYaml("127.0.0.1:0", first, [a]) +
      `backends:\n  - {name: b0, url: "${be.url}"}\n`,
  );
  const perWorker = async () =>
    ((await (await fetch(`${lb.adminUrl}/api/workers`)).json()) as { requests: number }[]).map((w) =>
      w.requests
    );
  try {
    await waitFor(async () => (await served(lb.tlsAddr!.port, ca.caFile, "a.test")).code === 0);
    const before = await perWorker();
    const names: (string | undefined)[] = [];
    for (let i = 0; i < 24; i++) names.push((await served(lb.tlsAddr!.port, ca.caFile, "a.test")).cn);
    assert.deepEqual(new Set(names), new Set(["a.test"]));
    assert.ok((await perWorker()).every((n, i) => n > before[i]), "both workers terminated TLS");
  } finally {
    await lb.shutdown();
    await be.close();
    await ca.cleanup();
  }
});
