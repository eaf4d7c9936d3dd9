import assert from "node:assert/strict";
import { Backend } from "../../../lib/pool/backend.ts";
import { UpstreamClient, type UpstreamFailure, type UpstreamResponse } from "../../../lib/upstream/mod.ts";
import { gatedTest, needs } from "../../_util/tools.ts";
import { makeCa, startTlsBackend } from "../../_util/tls.ts";

const TIMEOUTS = { connectMs: 1000, requestMs: 2000 };

function httpsBackend(port: number, tls?: { caPem?: string; serverName?: string }): Backend {
  return new Backend(0, "tls", `https://127.0.0.1:${port}`, 1, { tls });
}

async function get(client: UpstreamClient, backend: Backend, timeouts = TIMEOUTS) {
  const r = await client.send(
    backend,
    { method: "GET", target: "/x", headers: ["host", "h"], body: null, signal: new AbortController().signal },
    timeouts,
    () => {},
  );
  const text = r.ok && r.body ? await new Response((r as UpstreamResponse).body).text() : "";
  return { r, text };
}

/**
 * The SNI host name of a TLS ClientHello (RFC 8446 4.1.2, RFC 6066 3), or undefined when it
 * carries no server_name extension.
 */
function sniOf(hello: Uint8Array): string | undefined {
  const u16 = (i: number) => (hello[i] << 8) | hello[i + 1];
  let i = 5 + 4 + 2 + 32; // record header, handshake header, version, random
  i += 1 + hello[i]; // session id
  i += 2 + u16(i); // cipher suites
  i += 1 + hello[i]; // compression methods
  const end = i + 2 + u16(i);
  for (i += 2; i < end; i += 4 + u16(i + 2)) {
    if (u16(i) !== 0) continue;
    const name = i + 4 + 2; // extension header, server name list length
    assert.equal(hello[name], 0, "host_name entry");
    return new TextDecoder().decode(hello.subarray(name + 3, name + 3 + u16(name + 1)));
  }
  return undefined;
}

/** A TCP listener that keeps the first bytes of every connection and answers nothing. */
function silentListener() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const hellos: Uint8Array[] = [];
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      const buf = new Uint8Array(16384);
      conn.read(buf).then((n) => n && hellos.push(buf.slice(0, n)), () => {});
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    hellos,
    close() {
      try {
        listener.close();
      } catch { /* closed already */ }
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed by the peer */ }
      }
    },
  };
}

Deno.test("UpstreamClient sends tls.server_name as SNI, and no SNI for an IP address", async () => {
  const server = silentListener();
  const client = new UpstreamClient();
  try {
    const fast = { connectMs: 200, requestMs: 200 };
    await get(client, httpsBackend(server.port, { serverName: "backend.test" }), fast);
    await get(client, httpsBackend(server.port), fast);
    assert.equal(server.hellos.length, 2);
    assert.equal(server.hellos[0][0], 22, "a TLS handshake record");
    assert.equal(sniOf(server.hellos[0]), "backend.test");
    assert.equal(sniOf(server.hellos[1]), undefined, "RFC 6066: literal IP addresses are not sent as SNI");
  } finally {
    client.close();
    server.close();
  }
});

Deno.test("UpstreamClient bounds the TLS handshake by the connect timeout and says so", async () => {
  const server = silentListener();
  const client = new UpstreamClient();
  // An unbounded handshake would wait forever: end it so the test fails instead of hanging.
  const watchdog = setTimeout(() => server.close(), 3000);
  try {
    const t0 = performance.now();
    const { r } = await get(client, httpsBackend(server.port, { serverName: "backend.test" }), {
      connectMs: 300,
      requestMs: 5000,
    });
    const took = performance.now() - t0;
    assert.ok(!r.ok);
    assert.equal(r.kind, "connect");
    assert.equal(
      r.message,
      `tls handshake with 127.0.0.1:${server.port} (server_name backend.test) timed out (no handshake within 300ms)`,
    );
    assert.equal((r as UpstreamFailure).reason, `upstream ${r.message}`);
    assert.ok(took >= 290 && took < 2000, `took ${took}ms`);
  } finally {
    clearTimeout(watchdog);
    client.close();
    server.close();
  }
});

Deno.test("UpstreamClient names a plain HTTP server behind an https:// URL as a TLS failure", async () => {
  const plain = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("plain"),
  );
  const port = (plain.addr as Deno.NetAddr).port;
  const client = new UpstreamClient();
  try {
    const { r } = await get(client, httpsBackend(port));
    assert.ok(!r.ok);
    assert.equal(r.kind, "connect");
    assert.match(
      r.message,
      new RegExp(`^tls handshake with 127\\.0\\.0\\.1:${port} failed: .*\\(is it a TLS server\\?`),
    );
  } finally {
    client.close();
    await plain.shutdown();
  }
});

gatedTest(
  "UpstreamClient verifies a backend against tls.ca as tls.server_name, and reuses its connections",
  needs("openssl"),
  async () => {
    const ca = await makeCa();
    const other = await makeCa("other-ca");
    const be = startTlsBackend(await ca.issue("backend.test"));
    const client = new UpstreamClient();
    try {
      const good = httpsBackend(be.port, { caPem: ca.caPem, serverName: "backend.test" });
      for (let i = 0; i < 3; i++) {
        const { r, text } = await get(client, good);
        assert.ok(r.ok, r.ok ? "" : r.message);
        assert.equal(text, "tls ok");
      }
      assert.equal(new Set(be.clientPorts).size, 1, "three requests, one TLS connection");

      const where = `tls handshake with 127.0.0.1:${be.port} (server_name backend.test) failed`;
      const noCa = await get(client, httpsBackend(be.port, { serverName: "backend.test" }));
      assert.ok(!noCa.r.ok);
      assert.equal(noCa.r.kind, "connect");
      assert.equal(
        noCa.r.message,
        `${where}: invalid peer certificate: UnknownIssuer (not issued by a trusted CA: set tls.ca to the CA that signed it)`,
      );
      const wrongCa = await get(
        client,
        httpsBackend(be.port, { caPem: other.caPem, serverName: "backend.test" }),
      );
      assert.ok(!wrongCa.r.ok);
      assert.match(wrongCa.r.message, /UnknownIssuer/);

      const wrongName = await get(
        client,
        httpsBackend(be.port, { caPem: ca.caPem, serverName: "other.test" }),
      );
      assert.ok(!wrongName.r.ok);
      assert.equal(
        wrongName.r.message,
        `tls handshake with 127.0.0.1:${be.port} (server_name other.test) failed: invalid peer certificate: ` +
          `certificate not valid for name "other.test"; certificate is only valid for DnsName("backend.test")`,
      );
      const own = startTlsBackend(ca.own);
      const caAsLeaf = await get(
        client,
        httpsBackend(own.port, { caPem: ca.caPem, serverName: "lb-test-ca" }),
      );
      await own.close();
      assert.ok(!caAsLeaf.r.ok);
      assert.match(
        caAsLeaf.r.message,
        /CaUsedAsEndEntity.*\(the backend presents a CA certificate as its own/,
      );
      const byAddress = await get(client, httpsBackend(be.port, { caPem: ca.caPem }));
      assert.ok(!byAddress.r.ok);
      assert.match(
        byAddress.r.message,
        /^tls handshake with 127\.0\.0\.1:\d+ failed: .*not valid for name "127\.0\.0\.1"/,
      );
    } finally {
      client.close();
      await be.close();
      await ca.cleanup();
      await other.cleanup();
    }
  },
);
