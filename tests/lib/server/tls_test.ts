/**
 * TLS termination with real clients: curl over HTTP/1.1 and HTTP/2 (ALPN), h2load, a `ws` client
 * over wss://, plaintext and silent clients on the TLS port, the redirect from http, and
 * certificate rotation (also under load).
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../../lib/config/config.ts";
import { captureClientHello, type IssuedCert, makeCa, type TestCa } from "../../_util/tls.ts";
import {
  scrape,
  startBackend,
  startLb,
  type TestBackend,
  type TestLb,
  waitFor,
} from "../../_util/harness.ts";
import { RawConn } from "../../_util/raw_http.ts";
import { gatedTest, which } from "../../_util/tools.ts";
import { closed, nextMessage, openClient, startWsBackend } from "../../_util/ws.ts";

const needs = (...tools: string[]) => () => {
  const missing = tools.filter((t) => !which(t));
  return missing.length ? `${missing.join(", ")} not installed` : undefined;
};

async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("curl", {
    args: ["-sS", "-m", "5", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

interface Setup {
  readonly ca: TestCa;
  readonly lb: TestLb;
  readonly be: TestBackend;
  /** The pair the listener starts with. */
  readonly first: IssuedCert;
  readonly https: string;
  readonly configPath: string;
  writeConfig(certFile: string, keyFile: string, extra?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A proxy with a TLS listener (a pair from a new CA) in front of one backend. `extra` is YAML after
 * the `tls` map; `tlsFields` goes inside it (", http2: false"), on reloads too.
 */
async function setup(extra = "", tlsFields = ""): Promise<Setup> {
  const ca = await makeCa();
  const first = await ca.issue("localhost", "127.0.0.1");
  // The backend reads the whole request body before it answers, so the body has passed through the
  // proxy by the time the response ends (the access log's bytes_in is counted at that end).
  const be = startBackend(async (req) => {
    await req.arrayBuffer();
    return new Response(`proto=${req.headers.get("x-forwarded-proto")} path=${new URL(req.url).pathname}`);
  });
  const configPath = `${ca.dir}/lb.yml`;
  const tls = (cert: string, key: string, more = "") =>
    `tls: {listen: "127.0.0.1:0", cert: "${cert}", key: "${key}"${more}}\n${extra}`;
  const lb = await startLb([be.url], tls(first.certFile, first.keyFile, tlsFields), {
    configSource: () => loadConfig(configPath, () => undefined),
  });
  const health =
    "health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";
  const writeConfig = (cert: string, key: string, more = tlsFields) =>
    Deno.writeTextFile(
      configPath,
      `listen: "127.0.0.1:${lb.proxyAddr.port}"\nadmin: {listen: "127.0.0.1:${lb.adminAddr.port}"}\n${health}\n` +
        `tls: {listen: "127.0.0.1:${lb.tlsAddr!.port}", cert: "${cert}", key: "${key}"${more}}\n${extra}\n` +
        `backends:\n  - {name: b0, url: "${be.url}"}\n`,
    );
  await writeConfig(first.certFile, first.keyFile);
  return {
    ca,
    lb,
    be,
    first,
    https: `https://localhost:${lb.tlsAddr!.port}`,
    configPath,
    writeConfig,
    close: async () => {
      await lb.shutdown();
      await be.close();
      await ca.cleanup();
    },
  };
}

gatedTest(
  "TLS listener serves HTTP/1.1 and, by ALPN, HTTP/2 to curl, with X-Forwarded-Proto https",
  needs("openssl", "curl"),
  async () => {
    const s = await setup();
    try {
      const h2 = await curl(["--http2", "--cacert", s.ca.caFile, "-w", "%{http_version}", `${s.https}/a`]);
      assert.equal(h2.code, 0, h2.stderr);
      assert.equal(h2.stdout, "proto=https path=/a2");
      const h1 = await curl([
        "--http1.1",
        "--cacert",
        s.ca.caFile,
        "-w",
        "%{http_version}",
        `${s.https}/b`,
      ]);
      assert.equal(h1.stdout, "proto=https path=/b1.1");
      const m = await scrape(s.lb);
      const key = (p: string) =>
        `lb_requests_total{service="default",backend="b0",strategy="round_robin",method="GET",code="200",protocol="${p}"}`;
      assert.equal(m.get(key("h2")), 1);
      assert.equal(m.get(key("http/1.1")), 1);
    } finally {
      await s.close();
    }
  },
);

gatedTest(
  "access log: HTTP/2 and HTTPS requests are logged with their protocol and body bytes",
  needs("openssl", "curl"),
  async () => {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/access.log`;
    const s = await setup(`access_log: {enabled: true, path: "${path}"}`);
    try {
      const h2 = await curl(["--http2", "--cacert", s.ca.caFile, "--data-binary", "12345", `${s.https}/h2`]);
      assert.equal(h2.stdout, "proto=https path=/h2");
      const h1 = await curl(["--http1.1", "--cacert", s.ca.caFile, `${s.https}/h1`]);
      assert.equal(h1.stdout, "proto=https path=/h1");
      await s.lb.shutdown();
      const lines = (await Deno.readTextFile(path)).trimEnd().split("\n").map((l) => JSON.parse(l));
      const pick = (
        l: Record<string, unknown>,
      ) => [l.method, l.path, l.protocol, l.status, l.bytes_in, l.bytes_out];
      assert.deepEqual(lines.map(pick), [
        ["POST", "/h2", "HTTP/2", 200, 5, 20],
        ["GET", "/h1", "HTTP/1.1", 200, 0, 20],
      ]);
    } finally {
      await s.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** `openssl s_client` offering `alpn`: its whole output, with the handshake's summary. */
async function sClient(port: number, alpn: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost", "-alpn", alpn],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return dec.decode(out.stdout) + dec.decode(out.stderr);
}

gatedTest(
  "tls.http2: false offers only http/1.1 by ALPN: curl --http2 and h2load fall back, h2 alone gets nothing",
  needs("openssl", "curl", "h2load"),
  async () => {
    // Fails if http2: false still reaches the h2 terminator or still offers h2 by ALPN: curl would
    // report 2, s_client would print "ALPN protocol: h2", h2load would run over h2 and the
    // requests would be counted with protocol="h2".
    const s = await setup("", ", http2: false");
    try {
      const port = s.lb.tlsAddr!.port;
      const r = await curl(["--http2", "--cacert", s.ca.caFile, "-w", "%{http_version}", `${s.https}/a`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "proto=https path=/a1.1", "curl asked for h2 and got HTTP/1.1");
      const both = await sClient(port, "h2,http/1.1");
      assert.match(both, /^ALPN protocol: http\/1\.1$/m, both);
      // Offered h2 alone, the server has nothing to agree on (with Deno 2.9.6 the handshake ends
      // without a certificate): no ALPN protocol, and never h2.
      const h2only = await sClient(port, "h2");
      assert.doesNotMatch(h2only, /ALPN protocol: h2/, h2only);
      assert.match(h2only, /^No ALPN negotiated$/m, h2only);
      const out = await new Deno.Command("h2load", {
        args: ["-n", "20", "-c", "1", "-t", "1", `https://127.0.0.1:${port}/`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      // h2load offers h2 and http/1.1, and speaks the one it gets.
      assert.match(text, /^Application protocol: http\/1\.1$/m, text);
      assert.match(text, /20 succeeded, 0 failed, 0 errored/, text);
      const key = (p: string) =>
        `lb_requests_total{service="default",backend="b0",strategy="round_robin",method="GET",code="200",protocol="${p}"}`;
      // curl's request and h2load's 20, all over HTTP/1.1 (each counted as its response ends).
      await waitFor(
        async () => (await scrape(s.lb)).get(key("http/1.1")) === 21,
        2000,
        "21 HTTP/1.1 requests",
      );
      assert.equal((await scrape(s.lb)).get(key("h2")) ?? 0, 0, "no request arrived over h2");
    } finally {
      await s.close();
    }
  },
);

gatedTest("h2load completes a run over the TLS listener", needs("openssl", "h2load"), async () => {
  const s = await setup();
  try {
    const out = await new Deno.Command("h2load", {
      args: ["-n", "2000", "-c", "4", "-m", "10", "-t", "1", `https://127.0.0.1:${s.lb.tlsAddr!.port}/`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.match(text, /2000 succeeded, 0 failed, 0 errored/, text);
    assert.match(text, /Application protocol: h2/);
  } finally {
    await s.close();
  }
});

gatedTest("wss:// carries a WebSocket through the TLS listener", needs("openssl"), async () => {
  const ca = await makeCa();
  const pair = await ca.issue("localhost");
  const be = await startWsBackend();
  const lb = await startLb(
    [be.url],
    `tls: {listen: "127.0.0.1:0", cert: "${pair.certFile}", key: "${pair.keyFile}"}`,
  );
  try {
    const ws = await openClient(`wss://localhost:${lb.tlsAddr!.port}/chat`, { ca: ca.caPem });
    assert.equal(be.upgrades[0]["x-forwarded-proto"], "https");
    ws.send("over tls");
    assert.equal(String((await nextMessage(ws))[0]), "over tls");
    ws.close(1000, "bye");
    assert.deepEqual(await closed(ws), [1000, "bye"]);
  } finally {
    await lb.shutdown();
    await be.close();
    await ca.cleanup();
  }
});

gatedTest(
  "a wss:// tunnel lives by tunnel_idle, not client_idle; an idle keep-alive TLS connection by client_idle",
  needs("openssl"),
  async () => {
    const ca = await makeCa();
    const pair = await ca.issue("localhost");
    const be = await startWsBackend();
    const lb = await startLb(
      [be.url],
      `tls: {listen: "127.0.0.1:0", cert: "${pair.certFile}", key: "${pair.keyFile}"}
timeouts: {client_idle: 300ms, tunnel_idle: 1h}`,
    );
    try {
      const ws = await openClient(`wss://localhost:${lb.tlsAddr!.port}/chat`, { ca: ca.caPem });
      // Three client_idle periods with no byte either way: the relay in front of the TLS terminator
      // used to close the connection after one.
      await new Promise((r) => setTimeout(r, 1000));
      ws.send("still there");
      assert.equal(String((await nextMessage(ws))[0]), "still there");
      ws.close(1000, "bye");
      assert.deepEqual(await closed(ws), [1000, "bye"]);
      // A keep-alive HTTPS connection with nothing to do is closed at client_idle, relay included:
      // the client sees the close (EOF), well before the 1 h backstop.
      const conn = await Deno.connectTls({
        hostname: "localhost",
        port: lb.tlsAddr!.port,
        caCerts: [ca.caPem],
      });
      await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
      const t0 = performance.now();
      const buf = new Uint8Array(4096);
      let eof = false;
      while (performance.now() - t0 < 3000) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) {
          eof = true;
          break;
        }
      }
      const waited = performance.now() - t0;
      conn.close();
      assert.ok(eof && waited < 2000, `the idle HTTPS connection closed after ${waited.toFixed(0)} ms`);
    } finally {
      await lb.shutdown();
      await be.close();
      await ca.cleanup();
    }
  },
);

gatedTest(
  "plaintext and silent clients on the TLS port are closed and counted; others are unaffected",
  needs("openssl", "curl"),
  async () => {
    const s = await setup("timeouts: {tls_handshake: 300ms, client_header: 400ms}");
    try {
      const plain = await RawConn.open(s.lb.tlsAddr!.port);
      await plain.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await plain.readToEnd(2000); // a TLS alert at most, then the close
      const silent = await RawConn.open(s.lb.tlsAddr!.port);
      const t0 = performance.now();
      await silent.readToEnd(2000);
      const waited = performance.now() - t0;
      assert.ok(waited >= 250 && waited < 1500, `silent client cut off after ${waited.toFixed(0)} ms`);
      await waitFor(
        async () => {
          const m = await scrape(s.lb);
          return m.get('lb_tls_handshake_failures_total{reason="protocol"}') === 1 &&
            m.get('lb_tls_handshake_failures_total{reason="timeout"}') === 1;
        },
        2000,
        "both failures counted",
      );
      const ok = await curl(["--cacert", s.ca.caFile, `${s.https}/still`]);
      assert.equal(ok.stdout, "proto=https path=/still");
    } finally {
      await s.close();
    }
  },
);

gatedTest(
  "a client that sends its ClientHello and stalls is cut off at tls_handshake, offering h2 or not, and counted",
  needs("openssl", "curl"),
  async () => {
    const s = await setup("timeouts: {tls_handshake: 300ms}");
    try {
      for (const [i, alpn] of [["h2", "http/1.1"], ["http/1.1"]].entries()) {
        const hello = await captureClientHello({ hostname: "localhost", alpnProtocols: alpn });
        const stalled = await RawConn.open(s.lb.tlsAddr!.port);
        const t0 = performance.now();
        await stalled.write(hello); // then nothing: the server's flight is never answered
        await stalled.readToEnd(3000);
        const waited = performance.now() - t0;
        // h2 went through Deno.serve, which bounds no handshake: the relay's deadline did it.
        assert.ok(waited >= 250 && waited < 1500, `${alpn}: cut off after ${waited.toFixed(0)} ms`);
        await waitFor(
          async () => (await scrape(s.lb)).get('lb_tls_handshake_failures_total{reason="timeout"}') === i + 1,
          2000,
          `${alpn}: counted once as a timeout`,
        );
      }
      const ok = await curl(["--http2", "--cacert", s.ca.caFile, `${s.https}/after`]);
      assert.equal(ok.stdout, "proto=https path=/after");
    } finally {
      await s.close();
    }
  },
);

gatedTest("the header timeout holds on TLS connections as on plain ones", needs("openssl"), async () => {
  const s = await setup("timeouts: {client_header: 300ms}");
  try {
    const conn = await Deno.connectTls({
      hostname: "localhost",
      port: s.lb.tlsAddr!.port,
      caCerts: [s.ca.caPem],
    });
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n")); // never finished
    const buf = new Uint8Array(1024);
    const n = await conn.read(buf);
    assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 408 /);
    conn.close();
  } finally {
    await s.close();
  }
});

gatedTest(
  "tls.redirect_http: the plain listener answers 308 to the https URL",
  needs("openssl"),
  async () => {
    const ca = await makeCa();
    const pair = await ca.issue("localhost");
    const be = startBackend();
    const lb = await startLb(
      [be.url],
      `tls: {listen: "127.0.0.1:0", cert: "${pair.certFile}", key: "${pair.keyFile}", redirect_http: true}`,
    );
    try {
      for (const method of ["GET", "POST"]) {
        const r = await fetch(`${lb.url}/a/b?c=1`, { method, redirect: "manual" });
        assert.equal(r.status, 308, method);
        assert.equal(r.headers.get("location"), `https://127.0.0.1:${lb.tlsAddr!.port}/a/b?c=1`);
        await r.body?.cancel();
      }
      const acme = await fetch(`${lb.url}/.well-known/acme-challenge/token`, { redirect: "manual" });
      assert.equal(acme.status, 200, "ACME HTTP-01 challenges are served over plain HTTP");
      await acme.body?.cancel();
      assert.equal(be.seen.length, 1);
    } finally {
      await lb.shutdown();
      await be.close();
      await ca.cleanup();
    }
  },
);

/** The certificate (PEM) the TLS listener presents to a new connection. */
async function servedCert(port: number): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/;
  return pem.exec(new TextDecoder().decode(out.stdout))?.[0] ?? "";
}

gatedTest(
  "reload rotates the certificate: new connections get it, open ones keep working, a bad pair is refused",
  needs("openssl"),
  async () => {
    const s = await setup();
    try {
      assert.equal(await servedCert(s.lb.tlsAddr!.port), s.first.cert.trim());
      const client = Deno.createHttpClient({ caCerts: [s.ca.caPem], poolMaxIdlePerHost: 1 });
      assert.equal(await (await fetch(`${s.https}/before`, { client })).text(), "proto=https path=/before");
      const next = await s.ca.issue("localhost", "127.0.0.1");
      await s.writeConfig(next.certFile, next.keyFile);
      const r = await fetch(`${s.lb.adminUrl}/api/reload`, { method: "POST" });
      assert.equal(r.status, 200, await r.text());
      assert.equal(await servedCert(s.lb.tlsAddr!.port), next.cert.trim());
      assert.equal(
        await (await fetch(`${s.https}/kept`, { client })).text(),
        "proto=https path=/kept",
        "open connection",
      );
      // A key that does not match the certificate: refused, naming the files; the running pair stays.
      const other = await s.ca.issue("localhost");
      await s.writeConfig(next.certFile, other.keyFile);
      const bad = await fetch(`${s.lb.adminUrl}/api/reload`, { method: "POST" });
      assert.equal(bad.status, 422);
      const errors = (await bad.json()).errors as string[];
      assert.equal(errors.length, 1);
      assert.match(
        errors[0],
        new RegExp(`^tls: ${next.certFile} and ${other.keyFile} do not load as a pair: `),
      );
      assert.equal(await servedCert(s.lb.tlsAddr!.port), next.cert.trim());
      await s.writeConfig(`${s.ca.dir}/missing.pem`, next.keyFile);
      const missing = await (await fetch(`${s.lb.adminUrl}/api/reload`, { method: "POST" })).json();
      assert.deepEqual(missing.errors, [`tls.cert: cannot read ${s.ca.dir}/missing.pem: file not found`]);
      client.close();
    } finally {
      await s.close();
    }
  },
);

gatedTest("certificate rotation under load refuses no connection", needs("openssl"), async () => {
  const s = await setup();
  try {
    const pairs = [await s.ca.issue("localhost"), await s.ca.issue("localhost")];
    // A new connection per request: each one meets whichever listener accepts at that moment.
    const failures: string[] = [];
    let sent = 0;
    const started = performance.now();
    const pending: Promise<void>[] = [];
    const load = (async () => {
      while (performance.now() - started < 3000 && sent < 3000) {
        sent++;
        pending.push((async () => {
          const client = Deno.createHttpClient({ caCerts: [s.ca.caPem], poolMaxIdlePerHost: 0 });
          try {
            const r = await fetch(`${s.https}/load`, { client, signal: AbortSignal.timeout(5000) });
            if ((await r.text()) !== "proto=https path=/load") failures.push(`status ${r.status}`);
          } catch (e) {
            failures.push(String((e as Error).cause ?? (e as Error).message));
          } finally {
            client.close();
          }
        })());
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 400));
      const p = pairs[i % 2];
      await s.writeConfig(p.certFile, p.keyFile);
      const r = await fetch(`${s.lb.adminUrl}/api/reload`, { method: "POST" });
      assert.equal(r.status, 200, await r.text());
    }
    await load;
    await Promise.all(pending);
    console.log(
      `rotation under load: ${sent} connections, 6 rotations, ${failures.length} failed`,
      [...new Set(failures)].slice(0, 5),
    );
    assert.deepEqual(failures, [], `${failures.length} of ${sent} connections failed`);
  } finally {
    await s.close();
  }
});
