/**
 * Choosing a certificate by SNI: the names a certificate serves (from openssl-made certificates)
 * and the matching rules of RFC 6125 section 6.4.3.
 */
import assert from "node:assert/strict";
import { certificateNames, sniTable } from "../../../lib/listener/sni.ts";
import { FIXED_CA_PEM, makeCa } from "../../_util/tls.ts";
import { gatedTest, which } from "../../_util/tools.ts";

const needsOpenssl = () => which("openssl") ? undefined : "openssl not installed";

gatedTest(
  "certificateNames reads subjectAltName DNS entries, lower case, and skips IP entries",
  needsOpenssl,
  async () => {
    const ca = await makeCa();
    try {
      const cert = await ca.issue("API.Example.test", "*.W.test", "127.0.0.1", "::1");
      assert.deepEqual(certificateNames(cert.cert), ["api.example.test", "*.w.test"]);
    } finally {
      await ca.cleanup();
    }
  },
);

Deno.test("certificateNames falls back to the subject CN when there is no subjectAltName", () => {
  // FIXED_CA_PEM: CN=test CA, no subjectAltName; a CN with a space is no DNS name.
  assert.deepEqual(certificateNames(FIXED_CA_PEM), []);
});

gatedTest("certificateNames takes a CN that is a host name", needsOpenssl, async () => {
  const ca = await makeCa("cn.only.test");
  try {
    assert.deepEqual(certificateNames(ca.caPem), ["cn.only.test"]);
  } finally {
    await ca.cleanup();
  }
});

Deno.test("certificateNames throws on text holding no certificate", () => {
  assert.throws(() => certificateNames("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
});

Deno.test("sniTable: exact names, one-label wildcards, first listed wins, default otherwise", () => {
  const pick = sniTable([
    ["localhost", "a.w.test"],
    ["a.test", "*.w.test"],
    ["a.test", "b.test", "*.w.test", "*.b.test"],
  ]);
  assert.equal(pick("a.test"), 1, "first listed wins");
  assert.equal(pick("b.test"), 2);
  assert.equal(pick("x.w.test"), 1, "wildcard covers one label");
  assert.equal(pick("a.w.test"), 0, "an exact name beats a wildcard");
  assert.equal(pick("y.x.w.test"), 0, "a wildcard covers exactly one more label");
  assert.equal(pick("w.test"), 0, "a wildcard does not cover its parent");
  assert.equal(pick("q.b.test"), 2);
  assert.equal(pick("a.test."), 1, "a trailing dot is the same name");
  assert.equal(pick("other.test"), 0);
  assert.equal(pick(""), 0, "no SNI: the default");
  assert.equal(pick("localhost"), 0);
});
