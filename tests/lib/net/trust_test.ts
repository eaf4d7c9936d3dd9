import assert from "node:assert/strict";
import { trustedPeer } from "../../../lib/net/trust.ts";

Deno.test("trustedPeer() matches peers in trusted_proxies, IPv4-mapped ones included", () => {
  const trusted = trustedPeer(["10.0.0.0/8", "::1"]);
  assert.equal(trusted("10.1.2.3"), true);
  assert.equal(trusted("::ffff:10.1.2.3"), true);
  assert.equal(trusted("::1"), true);
  assert.equal(trusted("192.0.2.1"), false);
  assert.equal(trusted("not an address"), false);
  assert.equal(trustedPeer([])("10.1.2.3"), false, "nobody is trusted by default");
  assert.throws(() => trustedPeer(["10.0.0.0/33"]), TypeError);
});
