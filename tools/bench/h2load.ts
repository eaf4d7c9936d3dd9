/**
 * HTTP/2 closed-loop throughput with nghttp2's `h2load` (timing-based: `-D`), and a parser for its
 * summary.
 *
 * @module
 */

import { run } from "./procs.ts";

/** One h2load run. */
export interface H2loadResult {
  readonly rps: number;
  /** Mean time per request, ms (h2load reports no percentiles). */
  readonly meanMs: number;
  /** Failed, errored and timed-out requests plus non-2xx statuses. */
  readonly errors: number;
  /** `Application protocol:` (h2 expected). */
  readonly protocol: string;
  /** `TLS Protocol:` and `Cipher:`, as in `TLSv1.3 TLS_AES_128_GCM_SHA256`. */
  readonly tls: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

/**
 * Parse h2load's summary.
 *
 * @param out h2load's standard output.
 * @returns rate, mean request time, errors, protocol and TLS version with cipher
 * @throws {Error} when the summary lines are missing
 * @example A summary
 * ```ts
 * import { parseH2load } from "./h2load.ts";
 * parseH2load(
 *   "finished in 3.00s, 7428.33 req/s, 522.46KB/s\n" +
 *     "requests: 22285 total, 22385 started, 22285 done, 22285 succeeded, 0 failed, 0 errored, 0 timeout\n" +
 *     "status codes: 22285 2xx, 0 3xx, 0 4xx, 0 5xx\n" +
 *     "time for request:     1.48ms     45.62ms     12.87ms      5.78ms    74.28%\n",
 * ).rps; // 7428.33
 * ```
 */
export function parseH2load(out: string): H2loadResult {
  const rps = /^finished in [\d.]+s, ([\d.]+) req\/s/m.exec(out);
  const req = /^requests: .* (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(out);
  const codes = /^status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(out);
  const time = /^time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\b/m.exec(out);
  if (!rps || !req || !codes || !time) throw new Error(`Cannot parse h2load output:\n${out}`);
  const errors = [...req.slice(1), ...codes.slice(1)].reduce((n, x) => n + Number(x), 0);
  const tls = [/^TLS Protocol: (\S+)/m.exec(out)?.[1], /^Cipher: (\S+)/m.exec(out)?.[1]].filter(Boolean);
  return {
    rps: Number(rps[1]),
    meanMs: Number(time[1]) * UNIT_MS[time[2]],
    errors,
    protocol: /^Application protocol: (\S+)/m.exec(out)?.[1] ?? "none",
    tls: tls.join(" "),
  };
}

/** Options for {@linkcode h2load}. */
export interface H2loadOptions {
  /** Client connections (`-c`). @default 10 */
  readonly clients?: number;
  /** Concurrent streams per connection (`-m`). @default 10 */
  readonly streams?: number;
  /** Measured seconds (`-D`). */
  readonly seconds: number;
  /** Seconds before the measured time (`--warm-up-time`). @default 0 */
  readonly warmupSeconds?: number;
}

/**
 * Run `h2load -t1 -c<clients> -m<streams> -D<seconds>` against `url` (one client thread, as
 * `wrk -t1`).
 *
 * @param url An `https://` URL (h2 by ALPN).
 * @param options Load shape; see {@linkcode H2loadOptions}.
 * @returns the parsed summary
 * @throws {Error} when h2load fails or its output does not parse
 */
export async function h2load(url: string, options: H2loadOptions): Promise<H2loadResult> {
  const { clients = 10, streams = 10, seconds, warmupSeconds = 0 } = options;
  const args = ["-t1", `-c${clients}`, `-m${streams}`, `-D${seconds}`];
  if (warmupSeconds > 0) args.push(`--warm-up-time=${warmupSeconds}`);
  return parseH2load(await run("h2load", [...args, url]));
}
