import assert from "node:assert/strict";
import { hostMatches, normalizeHost, parseHostPattern } from "../../../lib/net/host.ts";

Deno.test("parseHostPattern() reads names and leftmost wildcards, case and trailing dot aside", () => {
  assert.deepEqual(parseHostPattern("API.Example.test."), {
    ok: true,
    pattern: { kind: "exact", name: "api.example.test" },
  });
  assert.deepEqual(parseHostPattern("*.example.test"), {
    ok: true,
    pattern: { kind: "wildcard", suffix: ".example.test" },
  });
  assert.deepEqual(parseHostPattern("10.0.0.1"), { ok: true, pattern: { kind: "exact", name: "10.0.0.1" } });
  assert.deepEqual(parseHostPattern("[::1]"), { ok: true, pattern: { kind: "exact", name: "[::1]" } });
  for (
    const bad of [
      "a*b.test",
      "*.*.test",
      "x.*.test",
      "",
      "a b.test",
      "api.example.test:8080",
      "-a.test",
      "*.10.0.0.1",
    ]
  ) {
    const r = parseHostPattern(bad);
    assert.equal(r.ok, false, bad);
    assert.match(
      r.ok ? "" : r.error,
      /^must be a host name like api\.example\.test or \*\.example\.test \(/,
      bad,
    );
  }
});

Deno.test("normalizeHost() lower-cases and drops the port and a trailing dot", () => {
  assert.equal(normalizeHost("API.Example.test.:8080"), "api.example.test");
  assert.equal(normalizeHost("api.example.test"), "api.example.test");
  assert.equal(normalizeHost("[::1]:8080"), "[::1]");
  assert.equal(normalizeHost("[::1]"), "[::1]");
  assert.equal(normalizeHost("127.0.0.1:80"), "127.0.0.1");
  assert.equal(normalizeHost(null), "");
  assert.equal(normalizeHost(""), "");
});

Deno.test("hostMatches() matches exact names and one or more labels under a wildcard", () => {
  const exact = { kind: "exact", name: "api.example.test" } as const;
  const wild = { kind: "wildcard", suffix: ".example.test" } as const;
  assert.ok(hostMatches(exact, "api.example.test"));
  assert.ok(!hostMatches(exact, "www.api.example.test"));
  assert.ok(hostMatches(wild, "a.example.test"));
  assert.ok(hostMatches(wild, "a.b.example.test"));
  assert.ok(!hostMatches(wild, "example.test"), "the wildcard stands for at least one label");
  assert.ok(!hostMatches(wild, "badexample.test"));
});
