import assert from "node:assert/strict";
import { nodeRequest, startBackend, startLb } from "../../_util/harness.ts";

function backends(n: number) {
  return Array.from({ length: n }, (_, i) => startBackend(() => new Response(`b${i}`)));
}

async function backendOf(url: string, headers: Record<string, string>): Promise<string> {
  return new TextDecoder().decode((await nodeRequest(url, { headers })).body);
}

Deno.test("ip_hash with hash.key header: keeps each user on one backend and spreads users", async () => {
  const bs = backends(3);
  const lb = await startLb(bs.map((b) => b.url), 'strategy: ip_hash\nhash: {key: "header:X-User"}');
  try {
    const placement = new Map<string, string>();
    for (let u = 0; u < 60; u++) {
      placement.set(`user-${u}`, await backendOf(lb.url, { "x-user": `user-${u}` }));
    }
    for (let u = 0; u < 60; u += 7) {
      assert.equal(await backendOf(lb.url, { "x-user": `user-${u}` }), placement.get(`user-${u}`));
    }
    assert.equal(new Set(placement.values()).size, 3, "60 users spread over all 3 backends");
    // Without the header the key falls back to the client IP: stable, never "always backend 0" by rule.
    const anon = await backendOf(lb.url, {});
    for (let i = 0; i < 5; i++) assert.equal(await backendOf(lb.url, {}), anon);
  } finally {
    await lb.shutdown();
    for (const b of bs) await b.close();
  }
});

Deno.test("ip_hash ignores X-Forwarded-For from an untrusted peer and believes a trusted one", async () => {
  const bs = backends(4);
  const urls = bs.map((b) => b.url);
  const untrusted = await startLb(urls, "strategy: ip_hash");
  const trusted = await startLb(urls, 'strategy: ip_hash\ntrusted_proxies: ["127.0.0.0/8"]');
  try {
    const spoofed = new Set<string>();
    const believed = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const xff = { "x-forwarded-for": `203.0.113.${i}` };
      spoofed.add(await backendOf(untrusted.url, xff));
      believed.add(await backendOf(trusted.url, xff));
    }
    assert.equal(spoofed.size, 1, "an untrusted peer cannot pick its backend by spoofing the header");
    assert.ok(believed.size >= 3, `behind a trusted proxy clients spread (${believed.size} backends)`);
  } finally {
    await untrusted.shutdown();
    await trusted.shutdown();
    for (const b of bs) await b.close();
  }
});
