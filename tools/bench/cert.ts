/**
 * A throwaway certificate for one benchmark run: self-signed, ECDSA P-256, valid for a day, for
 * `127.0.0.1` and `localhost`, made with openssl in the run's temp dir. The load clients (`wrk`,
 * `h2load`) do not verify certificates, so no CA is needed; every TLS target serves this one pair.
 *
 * @module
 */

import { run } from "./procs.ts";

/** The PEM files of a certificate and its key. */
export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Make `DIR/bench-cert.pem` and `DIR/bench-key.pem`.
 *
 * @param dir The directory the files go to (the run's temp dir, removed when the run ends).
 * @returns the two file paths
 * @throws {Error} when openssl is missing or fails
 * @example Make a pair
 * ```ts
 * import { throwawayCert } from "./cert.ts";
 * const { certFile, keyFile } = await throwawayCert(await Deno.makeTempDir());
 * ```
 */
export async function throwawayCert(dir: string): Promise<CertFiles> {
  const certFile = `${dir}/bench-cert.pem`;
  const keyFile = `${dir}/bench-key.pem`;
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ]);
  return { certFile, keyFile };
}
