import assert from "node:assert/strict";
import {
  bitString,
  boolean,
  context,
  ia5String,
  octetString,
  oid,
  pem,
  sequence,
  smallInteger,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from "../../../demo/shared/der.ts";

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");

Deno.test("tlv() writes short lengths in one byte and longer ones as 0x80 | n and n bytes", () => {
  assert.equal(hex(tlv(0x04)), "04 00");
  assert.equal(hex(tlv(0x04, new Uint8Array(127))).slice(0, 5), "04 7f");
  for (const [size, head] of [[128, "04 81 80"], [255, "04 81 ff"], [256, "04 82 01 00"]] as const) {
    const encoded = tlv(0x04, new Uint8Array(size));
    assert.equal(hex(encoded.subarray(0, head.split(" ").length)), head, `length ${size}`);
    assert.equal(encoded.length, head.split(" ").length + size);
  }
  assert.equal(hex(tlv(0x04, new Uint8Array(65_536)).subarray(0, 5)), "04 83 01 00 00");
  assert.equal(hex(tlv(0x30, Uint8Array.of(1), Uint8Array.of(2, 3))), "30 03 01 02 03", "parts concatenate");
});

Deno.test("unsignedInteger() is minimal and never negative: leading zeros dropped, 0x00 before a high bit", () => {
  assert.equal(hex(unsignedInteger(Uint8Array.of(0x7f))), "02 01 7f");
  assert.equal(hex(unsignedInteger(Uint8Array.of(0x80))), "02 02 00 80");
  assert.equal(hex(unsignedInteger(Uint8Array.of(0, 0, 0x80))), "02 02 00 80");
  assert.equal(hex(unsignedInteger(Uint8Array.of(0, 0, 0x01, 0x00))), "02 02 01 00");
  assert.equal(hex(unsignedInteger(Uint8Array.of(0, 0))), "02 01 00");
  assert.equal(hex(unsignedInteger(new Uint8Array(0))), "02 01 00");
  assert.equal(hex(smallInteger(0)), "02 01 00");
  assert.equal(hex(smallInteger(2)), "02 01 02");
  assert.equal(hex(smallInteger(128)), "02 02 00 80");
  assert.equal(hex(smallInteger(65_537)), "02 03 01 00 01");
  assert.throws(() => smallInteger(-1), RangeError);
  assert.throws(() => smallInteger(1.5), RangeError);
});

Deno.test("oid() packs the first two arcs in one byte and later arcs in base 128", () => {
  assert.equal(hex(oid("2.5.4.3")), "06 03 55 04 03"); // commonName
  assert.equal(hex(oid("1.2.840.10045.2.1")), "06 07 2a 86 48 ce 3d 02 01"); // id-ecPublicKey
  assert.equal(hex(oid("1.2.840.10045.4.3.2")), "06 08 2a 86 48 ce 3d 04 03 02"); // ecdsa-with-SHA256
  assert.equal(hex(oid("1.3.6.1.5.5.7.3.1")), "06 08 2b 06 01 05 05 07 03 01"); // serverAuth
  assert.equal(hex(oid("2.999.3")), "06 03 88 37 03"); // X.690 8.19.5's example: first arc 2 may exceed 39
  for (const bad of ["1", "3.1", "1.40", "1.2.x", "1..2", "01.2", ""]) {
    assert.throws(() => oid(bad), SyntaxError, bad);
  }
});

Deno.test("time() is UTCTime from 1950 to 2049 and GeneralizedTime outside, in whole UTC seconds", () => {
  const text = (bytes: Uint8Array) => [bytes[0], new TextDecoder().decode(bytes.subarray(2))];
  assert.deepEqual(text(time(new Date("2049-12-31T23:59:59.999Z"))), [0x17, "491231235959Z"]);
  assert.deepEqual(text(time(new Date("2050-01-01T00:00:00Z"))), [0x18, "20500101000000Z"]);
  assert.deepEqual(text(time(new Date("1950-01-01T00:00:00Z"))), [0x17, "500101000000Z"]);
  assert.deepEqual(text(time(new Date("1949-12-31T23:59:59Z"))), [0x18, "19491231235959Z"]);
  assert.deepEqual(text(time(new Date("2026-03-04T05:06:07+02:00"))), [0x17, "260304030607Z"]);
  assert.throws(() => time(new Date("nonsense")), RangeError);
});

Deno.test("the primitive types carry their tags, and context() sets the class and constructed bits", () => {
  assert.equal(hex(boolean(true)), "01 01 ff");
  assert.equal(hex(boolean(false)), "01 01 00");
  assert.equal(hex(bitString(Uint8Array.of(0xab))), "03 02 00 ab", "no unused bits");
  assert.equal(hex(octetString(Uint8Array.of(1))), "04 01 01");
  assert.equal(hex(utf8String("é")), "0c 02 c3 a9");
  assert.equal(hex(ia5String("a.b")), "16 03 61 2e 62");
  assert.throws(() => ia5String("é.test"), RangeError);
  assert.equal(hex(sequence()), "30 00");
  assert.equal(hex(context(0, smallInteger(2), true)), "a0 03 02 01 02", "[0] EXPLICIT");
  assert.equal(hex(context(7, Uint8Array.of(127, 0, 0, 1), false)), "87 04 7f 00 00 01", "[7] IMPLICIT");
  assert.throws(() => context(31, new Uint8Array(0), false), RangeError);
});

Deno.test("pem() wraps base64 at 64 columns between the label's lines, and decodes back to the bytes", () => {
  const der = Uint8Array.from({ length: 100 }, (_, i) => (i * 37) % 256);
  const text = pem("CERTIFICATE", der);
  const lines = text.trimEnd().split("\n");
  assert.equal(lines[0], "-----BEGIN CERTIFICATE-----");
  assert.equal(lines.at(-1), "-----END CERTIFICATE-----");
  assert.deepEqual(lines.slice(1, -1).map((l) => l.length), [64, 64, 8], "136 base64 characters");
  const body = atob(lines.slice(1, -1).join(""));
  assert.deepEqual(Uint8Array.from(body, (c) => c.charCodeAt(0)), der);
  assert.ok(text.endsWith("-----\n"));
});
