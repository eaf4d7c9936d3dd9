/**
 * Closed-loop throughput with `wrk`, and a parser for its `--latency` report.
 *
 * @module
 */

import { run } from "./procs.ts";

/** One wrk run. */
export interface WrkResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Socket errors plus non-2xx/3xx responses: a run with errors does not measure a working proxy. */
  readonly errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`Cannot parse wrk duration "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/**
 * Parse wrk's output (run with `--latency`).
 *
 * @example
 * ```ts
 * import { parseWrk } from "./wrk.ts";
 * parseWrk("     50%  626.00us\n     99%    7.94ms\nRequests/sec:  41090.54\n").rps; // 41090.54
 * ```
 */
export function parseWrk(out: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  if (!rps || !p50 || !p99) throw new Error(`Cannot parse wrk output:\n${out}`);
  let errors = 0;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (socket) errors += socket.slice(1).reduce((n, x) => n + Number(x), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) errors += Number(non2xx[1]);
  return { rps: Number(rps[1]), p50Ms: durationMs(p50[1]), p99Ms: durationMs(p99[1]), errors };
}

/** Run `wrk -t<threads> -c<connections> -d<seconds>s --latency [--timeout <timeoutSeconds>s] url`. */
export async function wrk(
  url: string,
  connections: number,
  seconds: number,
  timeoutSeconds?: number,
  threads = 1,
): Promise<WrkResult> {
  const timeout = timeoutSeconds === undefined ? [] : ["--timeout", `${timeoutSeconds}s`];
  const out = await run("wrk", [
    `-t${threads}`,
    `-c${connections}`,
    `-d${seconds}s`,
    "--latency",
    ...timeout,
    url,
  ]);
  return parseWrk(out);
}
