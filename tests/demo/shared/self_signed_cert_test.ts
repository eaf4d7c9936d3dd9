import assert from "node:assert/strict";
import {
  createSelfSignedCert,
  ecdsaSignatureDer,
  type SelfSignedCert,
} from "../../../demo/shared/self_signed_cert.ts";
import { gatedTest, needs } from "../../_util/tools.ts";

const HOUR = 3_600_000;

/** Serve `pair` over HTTPS (h2 and HTTP/1.1) on 127.0.0.1 for the length of `fn`. */
async function withTlsServer(pair: SelfSignedCert, fn: (port: number) => Promise<void>): Promise<void> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: pair.cert, key: pair.key, onListen() {} },
    (request) => new Response(`hello ${new URL(request.url).host}`),
  );
  try {
    await fn(server.addr.port);
  } finally {
    await server.shutdown();
  }
}

/** GET `url` trusting only `ca`: the body, or the error's message. */
async function fetchTrusting(url: string, ca: string): Promise<{ body: string } | { error: string }> {
  const client = Deno.createHttpClient({ caCerts: [ca] });
  try {
    const response = await fetch(url, { client, signal: AbortSignal.timeout(5_000) });
    return { body: await response.text() };
  } catch (e) {
    return { error: String((e as Error).cause ?? e) };
  } finally {
    client.close();
  }
}

/** Assert that the TLS client refused the server, for a reason matching `reason`. */
function assertRefused(result: { body: string } | { error: string }, reason: RegExp): void {
  assert.ok("error" in result, `expected a refusal, got ${JSON.stringify(result)}`);
  assert.match(result.error, reason);
}

/** Write `pair` to a fresh temp dir as cert.pem and key.pem; returns the dir. */
async function writePair(pair: SelfSignedCert): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "lb-self-signed-" });
  await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
  await Deno.writeTextFile(`${dir}/key.pem`, pair.key);
  return dir;
}

async function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder();
  return { code: output.code, out: text.decode(output.stdout) + text.decode(output.stderr) };
}

Deno.test("createSelfSignedCert() gives a pair a TLS server loads and rustls trusts by the certificate alone, by DNS name and IP", async () => {
  const pair = await createSelfSignedCert();
  assert.match(pair.cert, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/);
  assert.match(pair.key, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
  await withTlsServer(pair, async (port) => {
    assert.deepEqual(await fetchTrusting(`https://localhost:${port}/`, pair.cert), {
      body: `hello localhost:${port}`,
    });
    assert.deepEqual(await fetchTrusting(`https://127.0.0.1:${port}/`, pair.cert), {
      body: `hello 127.0.0.1:${port}`,
    });
    // Trusting another certificate (same names, another key) is not trusting this one.
    const other = await createSelfSignedCert();
    const refused = await fetchTrusting(`https://localhost:${port}/`, other.cert);
    assertRefused(refused, /invalid peer certificate: (BadSignature|UnknownIssuer)/);
  });
});

Deno.test("createSelfSignedCert() names only what it is given: a client asking for another name refuses it", async () => {
  const pair = await createSelfSignedCert({ dnsNames: ["other.test"], ipAddresses: [] });
  await withTlsServer(pair, async (port) => {
    const refused = await fetchTrusting(`https://127.0.0.1:${port}/`, pair.cert);
    assertRefused(refused, /invalid peer certificate: certificate not valid for name/);
  });
  const ipOnly = await createSelfSignedCert({ dnsNames: [], ipAddresses: ["127.0.0.1"] });
  await withTlsServer(ipOnly, async (port) => {
    assert.ok("body" in await fetchTrusting(`https://127.0.0.1:${port}/`, ipOnly.cert));
    const refused = await fetchTrusting(`https://localhost:${port}/`, ipOnly.cert);
    assertRefused(refused, /invalid peer certificate: certificate not valid for name/);
  });
});

Deno.test("createSelfSignedCert() is valid from an hour before now for validityMs, and a client refuses it once expired", async () => {
  const now = new Date("2026-05-01T12:00:00.750Z");
  const pair = await createSelfSignedCert({ now });
  assert.deepEqual(
    [pair.notBefore.toISOString(), pair.notAfter.toISOString()],
    ["2026-05-01T11:00:00.000Z", "2026-05-08T12:00:00.000Z"],
    "seven days by default, whole seconds",
  );
  const expired = await createSelfSignedCert({
    now: new Date(Date.now() - 30 * 24 * HOUR),
    validityMs: 24 * HOUR,
  });
  await withTlsServer(expired, async (port) => {
    const refused = await fetchTrusting(`https://127.0.0.1:${port}/`, expired.cert);
    assertRefused(refused, /invalid peer certificate: certificate expired/);
  });
});

Deno.test("createSelfSignedCert() makes a new key and serial each time", async () => {
  const [a, b] = await Promise.all([createSelfSignedCert(), createSelfSignedCert()]);
  assert.notEqual(a.key, b.key);
  assert.notEqual(a.cert, b.cert);
});

Deno.test("createSelfSignedCert() refuses names that are neither DNS names nor IP addresses, with the value", async () => {
  await assert.rejects(createSelfSignedCert({ dnsNames: ["bad name"] }), {
    name: "TypeError",
    message: `Cannot put "bad name" in a certificate: not a DNS name`,
  });
  await assert.rejects(createSelfSignedCert({ dnsNames: ["例え.test"] }), TypeError);
  await assert.rejects(createSelfSignedCert({ ipAddresses: ["127.0.0.256"] }), {
    name: "TypeError",
    message: `Cannot put "127.0.0.256" in a certificate: not an IP address`,
  });
  await assert.rejects(createSelfSignedCert({ ipAddresses: ["fe80::1%eth0"] }), TypeError);
  await assert.rejects(createSelfSignedCert({ dnsNames: [], ipAddresses: [] }), /without names/);
  await assert.rejects(createSelfSignedCert({ validityMs: 0 }), RangeError);
});

Deno.test("ecdsaSignatureDer() turns r || s into SEQUENCE { INTEGER r, INTEGER s }, minimal and positive", () => {
  const r = new Uint8Array(32).fill(0x80); // high bit: needs a leading 0x00
  const s = new Uint8Array(32);
  s[31] = 5; // leading zeros: dropped
  const der = ecdsaSignatureDer(new Uint8Array([...r, ...s]));
  assert.deepEqual([...der.subarray(0, 5)], [0x30, 2 + 33 + 3, 0x02, 33, 0x00]);
  assert.deepEqual([...der.subarray(2 + 35)], [0x02, 1, 5]);
  assert.throws(() => ecdsaSignatureDer(new Uint8Array(63)), RangeError);
});

gatedTest(
  "createSelfSignedCert() reads back in openssl as a v3 P-256 certificate for localhost, 127.0.0.1 and ::1 that verifies against itself",
  needs("openssl"),
  async () => {
    const pair = await createSelfSignedCert({ now: new Date("2026-05-01T12:00:00Z") });
    const dir = await writePair(pair);
    try {
      const text = await run("openssl", ["x509", "-in", `${dir}/cert.pem`, "-noout", "-text"]);
      assert.equal(text.code, 0, text.out);
      for (
        const line of [
          /Version: 3 \(0x2\)/,
          /Signature Algorithm: ecdsa-with-SHA256/,
          /Issuer: O = lb demo, CN = localhost/,
          /Subject: O = lb demo, CN = localhost/,
          /Not Before: May {2}1 11:00:00 2026 GMT/,
          /Not After : May {2}8 12:00:00 2026 GMT/,
          /Public Key Algorithm: id-ecPublicKey/,
          /NIST CURVE: P-256/,
          /X509v3 Basic Constraints: critical\s+CA:FALSE/,
          /X509v3 Extended Key Usage: *\n\s+TLS Web Server Authentication/,
          /X509v3 Subject Alternative Name: *\n\s+DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1\n/,
        ]
      ) assert.match(text.out, line);
      // The signature checks out with the certificate's own key (check_time off: the date is fixed).
      const verify = await run("openssl", [
        "verify",
        "-x509_strict",
        "-no_check_time",
        "-purpose",
        "sslserver",
        "-CAfile",
        `${dir}/cert.pem`,
        `${dir}/cert.pem`,
      ]);
      assert.deepEqual(verify, { code: 0, out: `${dir}/cert.pem: OK\n` });
      // The key file holds the private half of the certificate's public key.
      const fromCert = await run("openssl", ["x509", "-in", `${dir}/cert.pem`, "-noout", "-pubkey"]);
      const fromKey = await run("openssl", ["pkey", "-in", `${dir}/key.pem`, "-pubout"]);
      assert.equal(fromKey.code, 0, fromKey.out);
      assert.equal(fromCert.out, fromKey.out);
      // Another certificate does not verify against this one.
      const other = await writePair(await createSelfSignedCert());
      const wrong = await run("openssl", ["verify", "-CAfile", `${dir}/cert.pem`, `${other}/cert.pem`]);
      assert.notEqual(wrong.code, 0, wrong.out);
      await Deno.remove(other, { recursive: true });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gatedTest(
  "createSelfSignedCert(): curl --cacert trusts it over HTTP/2 and HTTP/1.1, and curl without it does not",
  needs("curl"),
  async () => {
    const pair = await createSelfSignedCert();
    const dir = await writePair(pair);
    try {
      await withTlsServer(pair, async (port) => {
        const url = `https://localhost:${port}/`;
        const common = ["-sS", "--max-time", "5", "-w", " %{http_version}"];
        assert.deepEqual(await run("curl", [...common, "--cacert", `${dir}/cert.pem`, url]), {
          code: 0,
          out: `hello localhost:${port} 2`,
        });
        assert.deepEqual(await run("curl", [...common, "--http1.1", "--cacert", `${dir}/cert.pem`, url]), {
          code: 0,
          out: `hello localhost:${port} 1.1`,
        });
        const untrusted = await run("curl", [...common, url]);
        assert.equal(untrusted.code, 60, `curl exits 60 (peer certificate not trusted): ${untrusted.out}`);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
