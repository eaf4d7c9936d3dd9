/** The proxy in front of HTTPS backends with `tls: {ca, server_name}`: traffic, and 502s that say why. */

import assert from "node:assert/strict";
import { nodeRequest, scrape, startLb } from "../../_util/harness.ts";
import { makeCa, startTlsBackend } from "../../_util/tls.ts";
import { gatedTest, needs } from "../../_util/tools.ts";

const text = (r: { body: Uint8Array }) => new TextDecoder().decode(r.body);

gatedTest(
  "proxy streams requests to an https backend verified with tls.ca as tls.server_name",
  needs("openssl"),
  async () => {
    const ca = await makeCa();
    const be = startTlsBackend(
      await ca.issue("backend.test"),
      async (req) => new Response(`${req.method} ${new URL(req.url).pathname} ${(await req.text()).length}`),
    );
    const lb = await startLb([{
      url: be.url,
      fields: `tls: {ca: "${ca.caFile}", server_name: backend.test}`,
    }]);
    try {
      assert.equal(await (await fetch(`${lb.url}/a`)).text(), "GET /a 0");
      const body = "x".repeat(200_000);
      assert.equal(await (await fetch(`${lb.url}/up`, { method: "POST", body })).text(), "POST /up 200000");
      const m = await scrape(lb);
      assert.equal(
        m.get(
          'lb_requests_total{service="default",backend="b0",strategy="round_robin",method="POST",code="200",protocol="http/1.1"}',
        ),
        1,
      );
    } finally {
      await lb.shutdown();
      await be.close();
      await ca.cleanup();
    }
  },
);

gatedTest(
  "proxy answers 502 naming the TLS failure when a backend's certificate stops checking out",
  needs("openssl"),
  async () => {
    const ca = await makeCa();
    const stranger = await makeCa("stranger-ca");
    const good = await ca.issue("backend.test");
    const unknownCa = await stranger.issue("backend.test");
    const otherName = await ca.issue("other.test");
    let be = startTlsBackend(good);
    const port = be.port;
    // One health check at start, then none for a minute: requests meet whatever serves the port.
    const lb = await startLb(
      [{ url: be.url, fields: `tls: {ca: "${ca.caFile}", server_name: backend.test}` }],
      "health_check: {interval: 1m}\nretries: {attempts: 0}",
    );
    const at = `tls handshake with 127.0.0.1:${port} (server_name backend.test) failed`;
    try {
      assert.equal(await (await fetch(lb.url)).text(), "tls ok");

      await be.close();
      be = startTlsBackend(unknownCa, undefined, port);
      const r1 = await nodeRequest(`${lb.url}/`);
      assert.equal(r1.status, 502);
      assert.equal(
        text(r1),
        `502 Bad Gateway: upstream ${at}: invalid peer certificate: UnknownIssuer ` +
          "(not issued by a trusted CA: set tls.ca to the CA that signed it)\n",
      );

      await be.close();
      be = startTlsBackend(otherName, undefined, port);
      const r2 = await nodeRequest(`${lb.url}/`);
      assert.equal(r2.status, 502);
      assert.equal(
        text(r2),
        `502 Bad Gateway: upstream ${at}: invalid peer certificate: certificate not valid for name "backend.test"; ` +
          `certificate is only valid for DnsName("other.test")\n`,
      );

      const m = await scrape(lb);
      assert.equal(m.get('lb_upstream_errors_total{service="default",backend="b0",kind="connect"}'), 2);
      assert.equal(be.seen.length, 0, "no request got past a failed handshake");
    } finally {
      await lb.shutdown();
      await be.close();
      await ca.cleanup();
      await stranger.cleanup();
    }
  },
);
