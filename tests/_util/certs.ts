/**
 * Throwaway certificates for TLS tests, made with openssl in a temp dir: a CA of the test's own
 * and server certificates it signs, so clients can verify them with that CA only.
 *
 * @module
 */

/** A CA and the directory its files live in. */
export interface TestCa {
  readonly dir: string;
  /** The CA certificate (PEM), for clients' `caCerts`. */
  readonly cert: string;
  readonly certFile: string;
  /** Issue a server certificate for `names` (DNS names or IPs); returns the file paths. */
  issue(
    names: string[],
    label?: string,
  ): Promise<{ certFile: string; keyFile: string; cert: string; key: string }>;
  remove(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** Make a CA in a fresh temp dir. */
export async function createTestCa(): Promise<TestCa> {
  const dir = await Deno.makeTempDir({ prefix: "lb-certs-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=lb test CA",
  ], dir);
  let serial = 0;
  return {
    dir,
    cert: await Deno.readTextFile(`${dir}/ca.pem`),
    certFile: `${dir}/ca.pem`,
    async issue(names, label = `server${++serial}`) {
      const san = names.map((n) => /^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`).join(",");
      await Deno.writeTextFile(`${dir}/${label}.ext`, `subjectAltName=${san}\n`);
      await openssl([
        "req",
        ...ec,
        "-keyout",
        `${label}.key`,
        "-out",
        `${label}.csr`,
        "-subj",
        `/CN=${label}`,
      ], dir);
      await openssl([
        "x509",
        "-req",
        "-in",
        `${label}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${label}.pem`,
        "-days",
        "2",
        "-extfile",
        `${label}.ext`,
      ], dir);
      const certFile = `${dir}/${label}.pem`;
      const keyFile = `${dir}/${label}.key`;
      return {
        certFile,
        keyFile,
        cert: await Deno.readTextFile(certFile),
        key: await Deno.readTextFile(keyFile),
      };
    },
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
