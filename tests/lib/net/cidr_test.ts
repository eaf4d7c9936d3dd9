import assert from "node:assert/strict";
import { cidrContains, parseCidr } from "../../../lib/net/cidr.ts";
import { parseIp } from "../../../lib/net/ip_address.ts";

function contains(cidr: string, ip: string): boolean {
  const result = parseCidr(cidr);
  if (!result.ok) throw new Error(result.error);
  return cidrContains(result.cidr, parseIp(ip)!);
}

Deno.test("parseCidr() parses IPv4 and IPv6 ranges and single hosts to canonical text", () => {
  const cases: [string, string][] = [
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["192.0.2.7", "192.0.2.7/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["::1", "::1/128"],
    ["::/0", "::/0"],
    [" 172.16.0.0/12 ", "172.16.0.0/12"],
    ["::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"],
  ];
  for (const [input, text] of cases) {
    const result = parseCidr(input);
    assert.ok(result.ok, input);
    assert.equal(result.cidr.text, text);
  }
});

Deno.test("parseCidr() explains what is wrong", () => {
  const cases: [string, RegExp][] = [
    [
      "10.0.0.0/33",
      /Cannot parse CIDR "10\.0\.0\.0\/33": prefix length must be an integer from 0 to 32, got "33"/,
    ],
    ["::/129", /from 0 to 128, got "129"/],
    ["10.0.0.0/", /got ""/],
    ["10.0.0.0/8a", /got "8a"/],
    ["10.0.0/8", /"10\.0\.0" is not an IPv4 or IPv6 address/],
    ["localhost", /"localhost" is not an IPv4 or IPv6 address/],
    ["", /"" is not an IPv4 or IPv6 address/],
  ];
  for (const [input, message] of cases) {
    const result = parseCidr(input);
    assert.ok(!result.ok, input);
    assert.match(result.error, message);
  }
});

Deno.test("cidrContains() matches addresses inside the prefix only", () => {
  assert.ok(contains("10.0.0.0/8", "10.255.1.2"));
  assert.ok(!contains("10.0.0.0/8", "11.0.0.0"));
  assert.ok(contains("172.16.0.0/12", "172.31.255.255"));
  assert.ok(!contains("172.16.0.0/12", "172.32.0.0"));
  assert.ok(contains("192.0.2.7", "192.0.2.7"));
  assert.ok(!contains("192.0.2.7", "192.0.2.8"));
  assert.ok(contains("2001:db8::/32", "2001:db8:ffff::1"));
  assert.ok(!contains("2001:db8::/32", "2001:db9::1"));
  assert.ok(contains("2001:db8::/33", "2001:db8:7fff::"));
  assert.ok(!contains("2001:db8::/33", "2001:db8:8000::"));
  assert.ok(contains("0.0.0.0/0", "203.0.113.5"));
  assert.ok(!contains("0.0.0.0/0", "2001:db8::1"), "an IPv4 range does not contain IPv6");
  assert.ok(contains("::/0", "2001:db8::1"));
});

Deno.test("cidrContains() matches IPv4-mapped IPv6 peers against IPv4 ranges", () => {
  assert.ok(contains("10.0.0.0/8", "::ffff:10.1.2.3"));
  assert.ok(contains("127.0.0.1", "::ffff:127.0.0.1"));
  assert.ok(!contains("10.0.0.0/8", "::ffff:11.1.2.3"));
  assert.ok(!contains("10.0.0.0/8", "::10.1.2.3"), "IPv4-compatible is not IPv4-mapped");
});
