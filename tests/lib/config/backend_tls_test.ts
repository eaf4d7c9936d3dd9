import assert from "node:assert/strict";
import { loadConfig, parseConfig } from "../../../lib/config/config.ts";
import { FIXED_CA_PEM as CA } from "../../_util/tls.ts";

const KEY =
  "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";

/** Files by absolute path, as `ParseOptions.readFile` sees them. */
function files(entries: Record<string, string | Uint8Array>): (path: string) => Uint8Array {
  return (path) => {
    const f = entries[path];
    if (f === undefined) throw new Deno.errors.NotFound(`No such file: ${path}`);
    return typeof f === "string" ? new TextEncoder().encode(f) : f;
  };
}

function parse(text: string, readFile = files({ "/etc/lb/ca.pem": CA })) {
  return parseConfig(text, { file: "/etc/lb/config.yml", env: () => undefined, readFile });
}

function errorsOf(text: string, readFile?: (path: string) => Uint8Array): string[] {
  const r = parse(text, readFile);
  assert.ok(!r.ok, "expected errors");
  for (const e of r.errors) assert.ok(!e.includes("\n"), `one line per error: ${JSON.stringify(e)}`);
  return r.errors;
}

Deno.test("parseConfig() reads backends[].tls: the CA file's certificates and the server name", () => {
  const r = parse(
    "backends:\n" +
      "  - {url: https://10.0.0.5:8443, tls: {ca: ca.pem, server_name: Backend.Internal}}\n" +
      "  - {url: https://10.0.0.6:8443, tls: {server_name: api.internal}}\n" +
      "  - {url: https://10.0.0.7:8443, tls: {ca: /etc/lb/ca.pem}}\n" +
      "  - {url: https://10.0.0.8:8443, tls: {}}\n" +
      "  - {url: https://10.0.0.9:8443}\n",
  );
  assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
  const [a, b, c, d, e] = r.config.services[0].backends;
  assert.deepEqual(a.tls, { ca: "/etc/lb/ca.pem", caPem: CA, caCount: 1, serverName: "backend.internal" });
  assert.deepEqual(b.tls, { serverName: "api.internal" });
  assert.deepEqual(
    c.tls,
    { ca: "/etc/lb/ca.pem", caPem: CA, caCount: 1 },
    "relative to the config file's dir",
  );
  assert.equal(d.tls, undefined, "an empty tls is no settings");
  assert.equal(e.tls, undefined);
});

Deno.test("parseConfig() keeps only the certificates of a CA bundle", () => {
  const bundle = `# our CAs\n${CA}${KEY}\n${CA}`;
  const r = parse(
    "backends: [{url: https://10.0.0.5, tls: {ca: bundle.pem}}]",
    files({ "/etc/lb/bundle.pem": bundle }),
  );
  assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
  const tls = r.config.services[0].backends[0].tls!;
  assert.equal(tls.caCount, 2);
  assert.equal(tls.caPem, `${CA.trim()}\n${CA.trim()}\n`, "the key stays out");
});

Deno.test("parseConfig() reads tls under services.<name>.backends and names that path", () => {
  const text = "services:\n  api:\n    backends:\n      - {url: https://10.0.0.5}\n" +
    "      - {url: https://10.0.0.6, tls: {ca: missing.pem}}\n";
  assert.deepEqual(errorsOf(text), [
    '/etc/lb/config.yml:5: services.api.backends[1].tls.ca: cannot read "/etc/lb/missing.pem": file not found',
  ]);
});

const B = (tls: string, url = "https://10.0.0.5:8443") => `backends:\n  - url: ${url}\n    tls: ${tls}\n`;

/** [what, config, exact error]: every message is one line with file, line and field path. */
const INVALID: [string, string, string, Record<string, string | Uint8Array>?][] = [
  [
    "a missing CA file",
    B("{ca: /etc/lb/nope.pem}"),
    '/etc/lb/config.yml:3: backends[0].tls.ca: cannot read "/etc/lb/nope.pem": file not found',
  ],
  [
    "a CA file that is not PEM",
    B("{ca: notes.txt}"),
    '/etc/lb/config.yml:3: backends[0].tls.ca: "/etc/lb/notes.txt" is not a PEM file of CA certificates: ' +
    'no "-----BEGIN CERTIFICATE-----" block',
    { "/etc/lb/notes.txt": "hello\n" },
  ],
  [
    "a private key given as the CA",
    B("{ca: key.pem}"),
    '/etc/lb/config.yml:3: backends[0].tls.ca: "/etc/lb/key.pem" is not a PEM file of CA certificates: ' +
    'no "-----BEGIN CERTIFICATE-----" block (found PRIVATE KEY)',
    { "/etc/lb/key.pem": KEY },
  ],
  [
    "a DER (binary) CA file",
    B("{ca: ca.der}"),
    '/etc/lb/config.yml:3: backends[0].tls.ca: "/etc/lb/ca.der" is not a PEM file (binary content; ' +
    "a DER certificate needs converting: openssl x509 -in FILE -out FILE.pem)",
    { "/etc/lb/ca.der": new Uint8Array([0x30, 0x82, 0x01, 0x79, 0xff, 0xfe]) },
  ],
  [
    "a corrupt certificate block",
    B("{ca: broken.pem}"),
    '/etc/lb/config.yml:3: backends[0].tls.ca: "/etc/lb/broken.pem" certificate 2 of 2 cannot be parsed: ' +
    "BER error: Unexpected Tag (expected: Some(Tag(16)), actual: Tag(0))",
    { "/etc/lb/broken.pem": `${CA}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n` },
  ],
  [
    "an empty CA path",
    B('{ca: ""}'),
    '/etc/lb/config.yml:3: backends[0].tls.ca: must be the path of a PEM file of CA certificates, got ""',
  ],
  [
    "tls on an http:// backend",
    B("{server_name: backend.test}", "http://10.0.0.5:8080"),
    "/etc/lb/config.yml:3: backends[0].tls: applies to https:// backends only (a plain http:// connection " +
    'has no certificate to check), got url "http://10.0.0.5:8080"',
  ],
  [
    "an IP address as server_name",
    B("{server_name: 10.0.0.5}"),
    "/etc/lb/config.yml:3: backends[0].tls.server_name: must be a DNS name like backend.internal (an IP " +
    'address: the certificate is then checked for the URL\'s address, so leave server_name out), got "10.0.0.5"',
  ],
  [
    "an IPv6 address as server_name",
    B('{server_name: "::1"}'),
    "/etc/lb/config.yml:3: backends[0].tls.server_name: must be a DNS name like backend.internal (an IP " +
    'address: the certificate is then checked for the URL\'s address, so leave server_name out), got "::1"',
  ],
  [
    "a wildcard server_name",
    B('{server_name: "*.backend.test"}'),
    "/etc/lb/config.yml:3: backends[0].tls.server_name: must be a DNS name like backend.internal (letters, " +
    'digits, hyphens and dots only, no empty label), got "*.backend.test"',
  ],
  [
    "a server_name with a port",
    B("{server_name: backend.test:443}"),
    "/etc/lb/config.yml:3: backends[0].tls.server_name: must be a DNS name like backend.internal (no port: " +
    'the port is the URL\'s), got "backend.test:443"',
  ],
  [
    "a server_name with an underscore",
    B("{server_name: my_backend.test}"),
    "/etc/lb/config.yml:3: backends[0].tls.server_name: must be a DNS name like backend.internal (letters, " +
    'digits, hyphens and dots only, no empty label), got "my_backend.test"',
  ],
  [
    "an empty server_name",
    B('{server_name: ""}'),
    '/etc/lb/config.yml:3: backends[0].tls.server_name: must be a DNS name like backend.internal (empty), got ""',
  ],
  [
    "an unknown tls key",
    B("{server_nam: backend.test}"),
    "/etc/lb/config.yml:3: backends[0].tls.server_nam: unknown key (did you mean `server_name`?); " +
    "expected one of ca, server_name",
  ],
  [
    "tls that is not a mapping",
    B("backend.test"),
    '/etc/lb/config.yml:3: backends[0].tls: must be a mapping, got "backend.test"',
  ],
];

for (const [what, text, expected, extra] of INVALID) {
  Deno.test(`parseConfig() rejects ${what} in backends[].tls with one line naming it`, () => {
    assert.deepEqual(errorsOf(text, extra ? files(extra) : undefined), [expected]);
  });
}

Deno.test("loadConfig() reads tls.ca relative to the config file and says which file it could not read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, CA);
    await Deno.mkdir(`${dir}/certs`);
    const path = `${dir}/lb.yml`;
    const write = (ca: string) =>
      Deno.writeTextFile(path, `backends:\n  - {url: "https://127.0.0.1:9443", tls: {ca: ${ca}}}\n`);

    await write("ca.pem");
    const ok = await loadConfig(path, () => undefined);
    assert.ok(ok.ok, ok.ok ? "" : ok.errors.join("\n"));
    assert.equal(ok.config.services[0].backends[0].tls?.ca, `${dir}/ca.pem`);
    assert.equal(ok.config.services[0].backends[0].tls?.caPem, CA);

    await write("gone.pem");
    assert.deepEqual(await loadConfig(path, () => undefined), {
      ok: false,
      errors: [`${path}:2: backends[0].tls.ca: cannot read "${dir}/gone.pem": file not found`],
    });
    await write("certs");
    assert.deepEqual(await loadConfig(path, () => undefined), {
      ok: false,
      errors: [`${path}:2: backends[0].tls.ca: cannot read "${dir}/certs": is a directory`],
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
