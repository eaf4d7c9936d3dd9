import assert from "node:assert/strict";
import { DEMO_CERT_ROOT, DEMO_CERT_VALIDITY_MS, DemoCertError, writeDemoCert } from "../../demo/demo_cert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DAY = 24 * 3_600_000;

/** Run `fn` with a fresh temp dir as the certificates' root, and remove it after. */
async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "lb-demo-cert-" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const names = async (dir: string) => (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();

Deno.test("DEMO_CERT_ROOT is .cache/demo-tls at the root of the checkout", () => {
  assert.equal(DEMO_CERT_ROOT, `${ROOT}.cache/demo-tls`);
});

Deno.test("writeDemoCert() writes a certificate and a 0600 key into run-<pid>, and remove() takes the folder away", async () => {
  await withRoot(async (root) => {
    const now = new Date();
    const cert = await writeDemoCert({ root: `${root}/not/yet/there`, pid: 42, now });
    assert.equal(cert.dir, `${root}/not/yet/there/run-42`);
    assert.deepEqual(await names(cert.dir), ["cert.pem", "key.pem"]);
    assert.equal(cert.certFile, `${cert.dir}/cert.pem`);
    assert.equal(cert.keyFile, `${cert.dir}/key.pem`);
    assert.equal((await Deno.stat(cert.keyFile)).mode! & 0o777, 0o600);
    // Certificate times are whole seconds.
    assert.equal(cert.notAfter.getTime(), Math.floor((now.getTime() + DEMO_CERT_VALIDITY_MS) / 1000) * 1000);
    // The pair loads in a TLS server and a client trusting the file reaches it by "localhost".
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(cert.certFile),
      key: await Deno.readTextFile(cert.keyFile),
      onListen() {},
    }, () => new Response("ok"));
    const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(cert.certFile)] });
    try {
      assert.equal(await (await fetch(`https://localhost:${server.addr.port}/`, { client })).text(), "ok");
    } finally {
      client.close();
      await server.shutdown();
    }
    await cert.remove();
    assert.deepEqual(await names(`${root}/not/yet/there`), []);
    await cert.remove(); // twice is fine
  });
});

Deno.test("writeDemoCert() removes left-over runs older than the validity, keeps fresh ones, and restarts its own", async () => {
  await withRoot(async (root) => {
    const now = new Date();
    for (const name of ["run-1", "run-2", "run-7", "keep-me"]) {
      await Deno.mkdir(`${root}/${name}`);
      await Deno.writeTextFile(`${root}/${name}/cert.pem`, "old");
    }
    const old = new Date(now.getTime() - DEMO_CERT_VALIDITY_MS - DAY);
    for (const name of ["run-1", "keep-me"]) await Deno.utime(`${root}/${name}`, old, old);
    const cert = await writeDemoCert({ root, pid: 7, now });
    assert.deepEqual(await names(root), ["keep-me", "run-2", "run-7"], "run-1 expired; keep-me is not a run");
    assert.match(await Deno.readTextFile(cert.certFile), /^-----BEGIN CERTIFICATE-----\n/, "run-7 is new");
  });
});

Deno.test("writeDemoCert() fails with one DemoCertError line naming the folder when it cannot write there", async () => {
  await withRoot(async (root) => {
    await Deno.writeTextFile(`${root}/file`, "not a folder");
    const error = await writeDemoCert({ root: `${root}/file`, pid: 3 }).then(() => undefined, (e) => e);
    assert.ok(error instanceof DemoCertError, String(error));
    assert.match(
      error.message,
      new RegExp(`^Cannot write the demo's certificate to ${root}/file/run-3: .+--no-tls$`),
    );
    assert.ok(!error.message.includes("\n"), error.message);
  });
});
