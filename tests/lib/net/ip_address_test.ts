import assert from "node:assert/strict";
import { formatIp, isIpv4, parseIp } from "../../../lib/net/ip_address.ts";

Deno.test("parseIp() and formatIp() round-trip to canonical text", () => {
  const cases: [string, string][] = [
    ["192.0.2.1", "192.0.2.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::FFFF:c000:0201", "192.0.2.1"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::1:0:0:0:1", "2001:db8:0:1::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["fe80::1%eth0", "fe80::1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
  ];
  for (const [input, canonical] of cases) {
    const address = parseIp(input);
    assert.ok(address !== undefined, input);
    assert.equal(formatIp(address), canonical, input);
  }
});

Deno.test("parseIp() rejects what is not an address", () => {
  for (
    const input of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.-4",
      " 1.2.3.4",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "12345::",
      "g::1",
      "::1.2.3",
      "1:2:3:4:5:6:7::8",
      "unknown",
      "example.com",
    ]
  ) {
    assert.equal(parseIp(input), undefined, input);
  }
});

Deno.test("isIpv4() is true for IPv4 and IPv4-mapped IPv6 only", () => {
  assert.ok(isIpv4(parseIp("10.0.0.1")!));
  assert.ok(isIpv4(parseIp("::ffff:10.0.0.1")!));
  assert.ok(!isIpv4(parseIp("::10.0.0.1")!));
  assert.ok(!isIpv4(parseIp("2001:db8::1")!));
});
