/**
 * HTTPS backends with `tls: {ca, server_name}` as the pool runs them: health checks through the
 * same settings, clear reasons when the certificate does not check out, and reloads that change
 * the settings (or the CA file's content).
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../../lib/config/config.ts";
import { startLb, type TestLb, waitFor } from "../../_util/harness.ts";
import { makeCa, startTlsBackend } from "../../_util/tls.ts";
import { gatedTest, needs } from "../../_util/tools.ts";

const HEALTH = "health_check: {interval: 50ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";

async function backends(lb: TestLb): Promise<Record<string, string>[]> {
  return await (await fetch(`${lb.adminUrl}/api/backends`)).json();
}

gatedTest(
  "health checks reach an https backend through tls.ca and tls.server_name, Host set to the name",
  needs("openssl"),
  async () => {
    const ca = await makeCa();
    const be = startTlsBackend(
      await ca.issue("backend.test"),
      (req) => new Response(req.headers.get("host")),
    );
    const lb = await startLb([{
      url: be.url,
      fields: `tls: {ca: "${ca.caFile}", server_name: backend.test}`,
    }]);
    try {
      const [b0] = await backends(lb);
      assert.equal(b0.state, "healthy");
      assert.equal(b0.last_health_error, undefined);
      const checks = be.healthHosts.length;
      assert.ok(checks >= 1);
      await waitFor(() => be.healthHosts.length >= checks + 2, 2000, "two more health checks");
      assert.deepEqual([...new Set(be.healthHosts)], [`backend.test:${be.port}`]);
      const r = await fetch(`${lb.url}/hello`);
      assert.equal(r.status, 200);
      assert.equal(await r.text(), new URL(lb.url).host, "a proxied request keeps its Host");
    } finally {
      await lb.shutdown();
      await be.close();
      await ca.cleanup();
    }
  },
);

gatedTest(
  "an https backend without its CA, or checked for another name, is unhealthy with the TLS failure as reason",
  needs("openssl"),
  async () => {
    const ca = await makeCa();
    const be = startTlsBackend(await ca.issue("backend.test"));
    const lb = await startLb([
      { url: be.url, fields: "tls: {server_name: backend.test}" },
      { url: be.url, fields: `tls: {ca: "${ca.caFile}", server_name: other.test}` },
    ]);
    try {
      const [noCa, wrongName] = await backends(lb);
      const at = `tls handshake with 127.0.0.1:${be.port}`;
      const unknownCa = `${at} (server_name backend.test) failed: invalid peer certificate: UnknownIssuer ` +
        "(not issued by a trusted CA: set tls.ca to the CA that signed it)";
      const mismatch =
        `${at} (server_name other.test) failed: invalid peer certificate: certificate not valid ` +
        `for name "other.test"; certificate is only valid for DnsName("backend.test")`;
      assert.equal(noCa.state, "unhealthy");
      assert.equal(noCa.last_health_error, unknownCa);
      assert.equal(wrongName.state, "unhealthy");
      assert.equal(wrongName.last_health_error, mismatch);
      const logged = lb.logLines.filter((l) => l.startsWith("warn backend unhealthy from its first check"));
      assert.equal(logged.length, 2);
      assert.ok(logged.some((l) => l.includes(JSON.stringify(unknownCa))), logged.join("\n"));
      assert.ok(logged.some((l) => l.includes(JSON.stringify(mismatch))), logged.join("\n"));
      assert.deepEqual(be.healthHosts, [], "no check got past the handshake");
      assert.equal((await fetch(lb.url)).status, 503);
    } finally {
      await lb.shutdown();
      await be.close();
      await ca.cleanup();
    }
  },
);

gatedTest(
  "a reload that changes tls replaces the backend: new settings probed, old connections not reused",
  needs("openssl"),
  async () => {
    const ca = await makeCa();
    const be = startTlsBackend(await ca.issue("backend.test"));
    const dir = await Deno.makeTempDir();
    const path = `${dir}/lb.yml`;
    const fileWith = (lb: TestLb, tls: string) =>
      `listen: "127.0.0.1:${lb.proxyAddr.port}"\nadmin: {listen: "127.0.0.1:${lb.adminAddr.port}"}\n` +
      `${HEALTH}\nretries: {attempts: 0}\nbackends:\n  - {name: b0, url: "${be.url}", tls: ${tls}}\n`;
    const good = `{ca: ca.pem, server_name: backend.test}`;
    await Deno.copyFile(ca.caFile, `${dir}/ca.pem`);
    const lb = await startLb(
      [{ url: be.url, fields: `tls: {ca: "${dir}/ca.pem", server_name: backend.test}` }],
      "",
      {
        configSource: () => loadConfig(path, () => undefined),
      },
    );
    const reload = async (text: string) => {
      await Deno.writeTextFile(path, text);
      const r = await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" });
      return { status: r.status, body: await r.json() };
    };
    try {
      // Keep-alive connections verified as backend.test sit in both clients' pools now.
      for (let i = 0; i < 3; i++) assert.equal(await (await fetch(lb.url)).text(), "tls ok");
      const before = lb.pool.get("b0");

      const wrong = await reload(fileWith(lb, "{ca: ca.pem, server_name: other.test}"));
      assert.equal(wrong.status, 200, JSON.stringify(wrong.body));
      assert.deepEqual(wrong.body.updated, ["b0"]);
      assert.notEqual(lb.pool.get("b0"), before, "a new backend object: a new connection pool");
      await waitFor(async () => (await backends(lb))[0].state === "unhealthy", 2000, "b0 unhealthy");
      assert.match((await backends(lb))[0].last_health_error, /certificate not valid for name "other\.test"/);
      assert.equal((await fetch(lb.url)).status, 503, "no request rides a connection made for backend.test");

      const back = await reload(fileWith(lb, good));
      assert.equal(back.status, 200);
      await waitFor(async () => (await backends(lb))[0].state === "healthy", 2000, "b0 healthy again");
      assert.equal(await (await fetch(lb.url)).text(), "tls ok");

      // The same settings and file again change nothing: the backend and its connections stay.
      const kept = lb.pool.get("b0");
      const same = await reload(fileWith(lb, good));
      assert.deepEqual(same.body.updated, []);
      assert.equal(lb.pool.get("b0"), kept);
    } finally {
      await lb.shutdown();
      await be.close();
      await ca.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gatedTest(
  "a reload re-reads the CA file: new content replaces the backend, a broken file keeps the running config",
  needs("openssl"),
  async () => {
    const oldCa = await makeCa("old-ca");
    const newCa = await makeCa("new-ca");
    let be = startTlsBackend(await oldCa.issue("backend.test"));
    const port = be.port;
    const dir = await Deno.makeTempDir();
    const path = `${dir}/lb.yml`;
    await Deno.copyFile(oldCa.caFile, `${dir}/ca.pem`);
    const lb = await startLb(
      [{ url: be.url, fields: `tls: {ca: "${dir}/ca.pem", server_name: backend.test}` }],
      "",
      {
        configSource: () => loadConfig(path, () => undefined),
      },
    );
    const file =
      `listen: "127.0.0.1:${lb.proxyAddr.port}"\nadmin: {listen: "127.0.0.1:${lb.adminAddr.port}"}\n` +
      `${HEALTH}\nbackends:\n  - {name: b0, url: "${be.url}", tls: {ca: ca.pem, server_name: backend.test}}\n`;
    await Deno.writeTextFile(path, file);
    const reload = async () => {
      const r = await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" });
      return { status: r.status, body: await r.json() };
    };
    try {
      assert.equal(await (await fetch(lb.url)).text(), "tls ok");
      const running = lb.config();

      // A CA file that is no longer PEM: refused, one line naming the file and the field.
      await Deno.writeTextFile(`${dir}/ca.pem`, "not a certificate\n");
      const broken = await reload();
      assert.equal(broken.status, 422);
      assert.deepEqual(broken.body.errors, [
        `${path}:5: backends[0].tls.ca: "${dir}/ca.pem" is not a PEM file of CA certificates: ` +
        `no "-----BEGIN CERTIFICATE-----" block`,
      ]);
      assert.equal(lb.config(), running);
      assert.equal(await (await fetch(lb.url)).text(), "tls ok", "still served under the running config");

      // The backend moves to a certificate from another CA; the file, rewritten in place, follows.
      const issued = await newCa.issue("backend.test");
      await be.close();
      be = startTlsBackend(issued, undefined, port);
      await waitFor(
        async () => /UnknownIssuer/.test((await backends(lb))[0].last_health_error ?? ""),
        2000,
        "b0 failing its checks on the new certificate",
      );
      assert.equal((await backends(lb))[0].state, "unhealthy");
      await Deno.copyFile(newCa.caFile, `${dir}/ca.pem`);
      const rotated = await reload();
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.deepEqual(rotated.body.updated, ["b0"]);
      await waitFor(
        async () => (await backends(lb))[0].state === "healthy",
        2000,
        "b0 healthy under the new CA",
      );
      assert.equal(await (await fetch(lb.url)).text(), "tls ok");
    } finally {
      await lb.shutdown();
      await be.close();
      await oldCa.cleanup();
      await newCa.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
