/**
 * The demo's HTTPS certificate: made at start for localhost, 127.0.0.1 and ::1, written where the
 * proxy reads it (`tls.cert` and `tls.key` are file paths), removed at stop.
 *
 * Where: `.cache/demo-tls/run-<pid>/` in the checkout. `.cache/` is in `.gitignore`, so a run
 * never dirties the tree, and the `demo` task grants read and write on `.cache/demo-tls` and on
 * no other path. The system temp dir was the other choice; its place differs by machine
 * (`$TMPDIR`, `/var/folders/...` on macOS), so a task that must name its paths up front would
 * have had to grant all of `/tmp`, which other programs share. One folder per process, so two
 * demos (a user's and the test suite's) never overwrite each other's files; a run that was killed
 * before it could clean up leaves its folder behind, and the next run removes it once its
 * certificate has expired.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { createSelfSignedCert } from "./shared/mod.ts";

/** Where every run's folder goes: `.cache/demo-tls` at the root of the checkout. */
export const DEMO_CERT_ROOT: string = fileURLToPath(new URL("../.cache/demo-tls", import.meta.url));

/** How long the demo's certificate is valid: longer than a demo runs, short enough to be disposable. */
export const DEMO_CERT_VALIDITY_MS = 7 * 24 * 3_600_000;

/** The names the certificate is for: what `https://localhost:PORT/` and the IP forms need. */
export const DEMO_CERT_NAMES = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] } as const;

/** The certificate could not be written; the message is the one line to print. */
export class DemoCertError extends Error {
  override name = "DemoCertError";
}

/** A certificate written for one run. */
export interface DemoCert {
  /** The run's folder. */
  readonly dir: string;
  /** The PEM certificate: `tls.cert`, and what a client trusts (`curl --cacert`). */
  readonly certFile: string;
  /** The PEM private key (mode 0600): `tls.key`. */
  readonly keyFile: string;
  /** When the certificate expires. */
  readonly notAfter: Date;
  /** Remove the run's folder and both files; never throws. */
  remove(): Promise<void>;
}

/** Where and when {@linkcode writeDemoCert} writes. */
export interface DemoCertOptions {
  /**
   * The folder holding the runs' folders.
   *
   * @default {DEMO_CERT_ROOT}
   */
  readonly root?: string;
  /**
   * Names the run's folder, `run-<pid>`: unique among running processes.
   *
   * @default {Deno.pid}
   */
  readonly pid?: number;
  /**
   * The issue time; a left-over folder older than the validity counts as expired.
   *
   * @default {new Date()}
   */
  readonly now?: Date;
}

/**
 * Make a certificate for localhost and write it and its key to a fresh folder of this run, after
 * removing the folders of earlier runs whose certificates have expired.
 *
 * @param options Folder, run id and time.
 * @returns The files and a way to remove them.
 * @throws {DemoCertError} When the folder cannot be written, naming it and the way out.
 *
 * @example Usage
 * ```ts ignore
 * import { writeDemoCert } from "./demo_cert.ts";
 * const cert = await writeDemoCert();
 * console.log(`curl --cacert ${cert.certFile} https://localhost:8443/`);
 * await cert.remove();
 * ```
 */
export async function writeDemoCert(options: DemoCertOptions = {}): Promise<DemoCert> {
  const root = options.root ?? DEMO_CERT_ROOT;
  const now = options.now ?? new Date();
  const dir = `${root}/run-${options.pid ?? Deno.pid}`;
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  const pair = await createSelfSignedCert({ ...DEMO_CERT_NAMES, now, validityMs: DEMO_CERT_VALIDITY_MS });
  try {
    await removeExpiredRuns(root, now);
    // A folder of this pid can only be a dead process's: start it afresh.
    await ignoreNotFound(Deno.remove(dir, { recursive: true }));
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(keyFile, pair.key, { mode: 0o600 });
    await Deno.writeTextFile(certFile, pair.cert);
  } catch (e) {
    const why = e instanceof Deno.errors.NotCapable
      ? "not allowed by Deno's --allow-write"
      : (e as Error).message;
    throw new DemoCertError(
      `Cannot write the demo's certificate to ${dir}: ${why}; ` +
        "run it as `deno task demo` (which may write there), or serve no HTTPS with --no-tls",
    );
  }
  return {
    dir,
    certFile,
    keyFile,
    notAfter: pair.notAfter,
    remove: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}

/**
 * Remove `run-*` folders under `root` last changed longer ago than the certificate lasts. Another
 * demo starting at the same moment may remove one first: a folder already gone is no error.
 */
async function removeExpiredRuns(root: string, now: Date): Promise<void> {
  const entries = await ignoreNotFound(Array.fromAsync(Deno.readDir(root))) ?? [];
  for (const entry of entries) {
    if (!entry.isDirectory || !/^run-\d+$/.test(entry.name)) continue;
    const path = `${root}/${entry.name}`;
    const mtime = (await ignoreNotFound(Deno.stat(path)))?.mtime;
    if (mtime && now.getTime() - mtime.getTime() > DEMO_CERT_VALIDITY_MS) {
      await ignoreNotFound(Deno.remove(path, { recursive: true }));
    }
  }
}

/** `work`'s value, or undefined when it failed because a path does not exist. */
async function ignoreNotFound<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
