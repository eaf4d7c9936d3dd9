import { helloRecordLength } from "../../lib/listener/client_hello.ts";
/**
 * Throwaway certificate authorities made with `openssl` in a temp dir, and HTTPS backends on
 * loopback that serve certificates they issue. Tests using them are gated on `openssl`
 * (`gatedTest(name, needs("openssl"), ...)` from tools.ts).
 *
 * @module
 */

import type { TestBackend } from "./harness.ts";

/**
 * A CA certificate made once with openssl, for tests that parse certificates without connecting
 * (its validity dates do not matter to a parser) and so need no openssl of their own.
 */
export const FIXED_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBeTCCAR+gAwIBAgIUdyh4kGpFiATsbIbUpZCOgsi64gMwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdGVzdCBDQTAeFw0yNjEyMDEyMjI1MjNaFw0yNjEyMDIyMjI1
MjNaMBIxEDAOBgNVBAMMB3Rlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AAQvrgcZ8ORfaqzzgSwlFgP9tOFJA4LOaYGZjV148gxNgdn/Egosa1OhgMxlHQ0s
8HRC+I822B/gK1/kAZyHE8X2o1MwUTAdBgNVHQ4EFgQUD0h/z5uuuJL7e+pfATnC
zUgAVUgwHwYDVR0jBBgwFoAUD0h/z5uuuJL7e+pfATnCzUgAVUgwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAgNfJhayNUwcs4doVzklxejXRQbD7N
Pe3OTPLzcdZUzAIhAPkxt8B/OIyW/+y+6AtBqFMSvHQmZJejMwnh17jljVtF
-----END CERTIFICATE-----
`;

/** A certificate and its key, as files and as PEM text. */
export interface IssuedCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

/** A CA that exists for one test: its certificate file, and certificates it issues. */
export interface TestCa {
  /** The temp dir holding every file of this CA. */
  readonly dir: string;
  /** The CA certificate (PEM), what `tls.ca` points to. */
  readonly caFile: string;
  /** The CA certificate's PEM text. */
  readonly caPem: string;
  /**
   * The CA's own certificate and key, as a backend serving `openssl req -x509` output presents
   * them (a CA certificate as its own).
   */
  readonly own: IssuedCert;
  /** Issue a server certificate for `names`, DNS names or IP literals (first one also the CN). */
  issue(...names: string[]): Promise<IssuedCert>;
  /** Remove the dir. */
  cleanup(): Promise<void>;
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** A subjectAltName entry: an IP address for literals (v4 or v6), a DNS name otherwise. */
function san(name: string): string {
  return /^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/**
 * Make a CA with openssl in a new temp dir (P-256 keys, valid for a day).
 *
 * @param label names the CA (its CN, and its files' prefix), so two CAs of one test differ
 */
export async function makeCa(label = "lb-test-ca"): Promise<TestCa> {
  const dir = await Deno.makeTempDir({ prefix: "lb-tls-" });
  await openssl(
    dir,
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${label}.key`,
    "-out",
    `${label}.pem`,
    "-days",
    "1",
    "-subj",
    `/CN=${label}`,
  );
  let serial = 0;
  const caFile = `${dir}/${label}.pem`;
  const caPem = await Deno.readTextFile(caFile);
  const keyFile = `${dir}/${label}.key`;
  return {
    dir,
    caFile,
    caPem,
    own: { certFile: caFile, keyFile, cert: caPem, key: await Deno.readTextFile(keyFile) },
    async issue(...names: string[]): Promise<IssuedCert> {
      const base = `${names[0]}-${++serial}`;
      await openssl(
        dir,
        "req",
        ...EC,
        "-keyout",
        `${base}.key`,
        "-out",
        `${base}.csr`,
        "-subj",
        `/CN=${names[0]}`,
      );
      await Deno.writeTextFile(
        `${dir}/${base}.ext`,
        `subjectAltName=${names.map(san).join(",")}\nbasicConstraints=CA:FALSE\n` +
          `keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
      );
      await openssl(
        dir,
        "x509",
        "-req",
        "-in",
        `${base}.csr`,
        "-CA",
        `${label}.pem`,
        "-CAkey",
        `${label}.key`,
        "-set_serial",
        String(1000 + serial),
        "-days",
        "1",
        "-extfile",
        `${base}.ext`,
        "-out",
        `${base}.pem`,
      );
      const certFile = `${dir}/${base}.pem`;
      const keyFile = `${dir}/${base}.key`;
      return {
        certFile,
        keyFile,
        cert: await Deno.readTextFile(certFile),
        key: await Deno.readTextFile(keyFile),
      };
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** An HTTPS test backend: what `startBackend` gives, plus what its health checks looked like. */
export interface TlsTestBackend extends TestBackend {
  /** `Host` of every `/health` request, in arrival order. */
  readonly healthHosts: string[];
  /** Remote port of every request (health checks included): equal ports mean a reused connection. */
  readonly clientPorts: number[];
}

/**
 * Start `Deno.serve` with TLS on 127.0.0.1 (`port` 0: any free port, or a given one to restart a
 * backend in place with another certificate). `/health` answers 200 (503 while `healthy` is
 * false) and is not in `seen`; everything else goes to `handler` (default: 200 "tls ok"). The
 * URL is `https://127.0.0.1:<port>`: the certificate's names are never the address, so every
 * test of a name goes through `tls.server_name`.
 */
export function startTlsBackend(
  issued: IssuedCert,
  handler: (req: Request) => Response | Promise<Response> = () => new Response("tls ok"),
  port = 0,
): TlsTestBackend {
  const seen: Request[] = [];
  const healthHosts: string[] = [];
  const clientPorts: number[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, cert: issued.cert, key: issued.key, onListen: () => {} },
    (req, info) => {
      clientPorts.push(info.remoteAddr.port);
      if (new URL(req.url).pathname === "/health") {
        (backend as { checks: number }).checks++;
        healthHosts.push(req.headers.get("host") ?? "");
        return new Response(backend.healthy ? "ok" : "down", { status: backend.healthy ? 200 : 503 });
      }
      seen.push(req);
      return handler(req);
    },
  );
  const bound = (server.addr as Deno.NetAddr).port;
  const backend: TlsTestBackend = {
    port: bound,
    url: `https://127.0.0.1:${bound}`,
    seen,
    healthHosts,
    clientPorts,
    healthy: true,
    checks: 0,
    close: () => server.shutdown(),
  };
  return backend;
}

/** The first record a real TLS client (Deno's rustls) sends, captured on a plain socket. */
export async function captureClientHello(
  options: { hostname: string; alpnProtocols?: string[] },
): Promise<Uint8Array> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = Deno.connectTls({ ...options, port: listener.addr.port }).catch(() => undefined);
  const conn = await listener.accept();
  let bytes = new Uint8Array(0);
  while (bytes.length < 5 || bytes.length < (helloRecordLength(bytes) as number)) {
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    if (n === null) break;
    bytes = new Uint8Array([...bytes, ...buf.subarray(0, n)]);
  }
  conn.close();
  listener.close();
  (await client)?.close();
  return bytes;
}
