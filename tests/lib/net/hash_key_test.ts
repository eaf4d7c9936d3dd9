import assert from "node:assert/strict";
import { createHashKey, parseCidr, parseHashKeySpec } from "../../../lib/net/hash_key.ts";

function request(headers: Record<string, string> = {}): Request {
  return new Request("http://balancer.test/", { headers });
}

Deno.test("parseHashKeySpec() accepts client_ip, header:<Name> and cookie:<name>", () => {
  assert.deepEqual(parseHashKeySpec("client_ip"), { ok: true, spec: { kind: "client_ip" } });
  assert.deepEqual(parseHashKeySpec("header:X-User-Id"), {
    ok: true,
    spec: { kind: "header", name: "X-User-Id" },
  });
  assert.deepEqual(parseHashKeySpec("cookie:session_id"), {
    ok: true,
    spec: { kind: "cookie", name: "session_id" },
  });
});

Deno.test("parseHashKeySpec() explains invalid specs", () => {
  const cases: [string, RegExp][] = [
    ["ip", /Cannot use hash key "ip": expected client_ip, header:<Name> or cookie:<name>/],
    ["", /expected client_ip/],
    ["Header:X", /expected client_ip/],
    ["header", /expected a header name after "header:"/],
    ["cookie:", /expected a cookie name after "cookie:"/],
    ["header:X User", /"X User" is not a valid header name/],
    ["cookie:a=b", /"a=b" is not a valid cookie name/],
  ];
  for (const [text, message] of cases) {
    const result = parseHashKeySpec(text);
    assert.ok(!result.ok, text);
    assert.match(result.error, message);
  }
});

Deno.test("createHashKey() uses the socket peer and ignores X-Forwarded-For from an untrusted peer", () => {
  const key = createHashKey({ key: "client_ip", trustedProxies: ["10.0.0.0/8"] });
  const spoofed = request({ "x-forwarded-for": "1.2.3.4" });
  assert.equal(key(spoofed, "203.0.113.50"), "203.0.113.50");
  // Without trusted proxies the header is never read.
  assert.equal(createHashKey({ key: "client_ip" })(spoofed, "10.0.0.1"), "10.0.0.1");
});

Deno.test("createHashKey() walks X-Forwarded-For right to left past trusted hops", () => {
  const key = createHashKey({ key: "client_ip", trustedProxies: ["10.0.0.0/8", "2001:db8:1::/48"] });
  // The client prepended a forged address; the trusted edge proxy appended the real one.
  const chain = request({ "x-forwarded-for": "6.6.6.6, 198.51.100.7, 10.0.0.9" });
  assert.equal(key(chain, "10.0.0.2"), "198.51.100.7");
  assert.equal(key(request({ "x-forwarded-for": "198.51.100.7" }), "::ffff:10.0.0.2"), "198.51.100.7");
  assert.equal(
    key(request({ "x-forwarded-for": "2001:db8:2::5, 2001:db8:1::9" }), "2001:db8:1::1"),
    "2001:db8:2::5",
  );
  // Every hop trusted: the leftmost is the client.
  assert.equal(key(request({ "x-forwarded-for": "10.9.9.9, 10.0.0.9" }), "10.0.0.2"), "10.9.9.9");
  // Garbage ends the walk at the last good hop.
  assert.equal(
    key(request({ "x-forwarded-for": "198.51.100.7, unknown, 10.0.0.9" }), "10.0.0.2"),
    "10.0.0.9",
  );
  // Ports and brackets are tolerated; output is canonical.
  assert.equal(key(request({ "x-forwarded-for": "[2001:DB8::7]:443" }), "10.0.0.2"), "2001:db8::7");
  assert.equal(key(request({ "x-forwarded-for": "198.51.100.7:5555" }), "10.0.0.2"), "198.51.100.7");
  // No header from a trusted peer: the peer itself.
  assert.equal(key(request(), "10.0.0.2"), "10.0.0.2");
});

Deno.test("createHashKey() folds IPv4-mapped peers to IPv4 so one client has one key", () => {
  const key = createHashKey({ key: "client_ip" });
  assert.equal(key(request(), "::ffff:192.0.2.10"), key(request(), "192.0.2.10"));
  assert.equal(key(request(), "2001:0db8:0000::0001"), "2001:db8::1");
});

Deno.test("createHashKey() reads a header, falling back to the client IP", () => {
  const key = createHashKey({ key: "header:X-Tenant", trustedProxies: ["127.0.0.1"] });
  assert.equal(key(request({ "x-tenant": "acme" }), "192.0.2.1"), "acme");
  assert.equal(key(request(), "192.0.2.1"), "192.0.2.1");
  assert.equal(key(request({ "x-tenant": "" }), "192.0.2.1"), "192.0.2.1");
  assert.equal(key(request({ "x-forwarded-for": "198.51.100.3" }), "127.0.0.1"), "198.51.100.3");
});

Deno.test("createHashKey() reads a cookie, falling back to the client IP", () => {
  const key = createHashKey({ key: "cookie:sid" });
  assert.equal(key(request({ cookie: "theme=dark; sid=abc123; lang=en" }), "192.0.2.1"), "abc123");
  assert.equal(key(request({ cookie: 'sid="quoted"' }), "192.0.2.1"), "quoted");
  assert.equal(key(request({ cookie: "xsid=nope; sidx=nope" }), "192.0.2.1"), "192.0.2.1");
  assert.equal(key(request(), "192.0.2.1"), "192.0.2.1");
  const twoFields = new Headers();
  twoFields.append("cookie", "a=1");
  twoFields.append("cookie", "sid=second");
  assert.equal(key(new Request("http://balancer.test/", { headers: twoFields }), "192.0.2.1"), "second");
});

Deno.test("createHashKey() throws on an invalid key or trusted proxy", () => {
  assert.throws(() => createHashKey({ key: "source" }), TypeError);
  assert.throws(() => createHashKey({ key: "client_ip", trustedProxies: ["10.0.0.0/40"] }), /prefix length/);
});

Deno.test("parseCidr() is exported for config validation", () => {
  assert.ok(parseCidr("10.0.0.0/8").ok);
});
