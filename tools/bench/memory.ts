/**
 * Memory of a running proxy, read from `/proc/PID/status`: peak RSS under many concurrent
 * keep-alive connections, and RSS growth while one large body streams through.
 *
 * @module
 */

import { openLoop } from "./open_loop.ts";
import { wrk } from "./wrk.ts";

/** A `kB` field of `/proc/PID/status` (`VmRSS`, `VmHWM`) in MiB. */
export async function procStatusMiB(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  if (!m) throw new Error(`Cannot read ${field} of process ${pid}`);
  return Number(m[1]) / 1024;
}

/** Sample VmRSS every `everyMs` while `work` runs; resolves with the work's result and the peak. */
async function sampling<T>(
  pid: number,
  everyMs: number,
  work: Promise<T>,
): Promise<{ value: T; peak: number }> {
  let peak = await procStatusMiB(pid, "VmRSS");
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, await procStatusMiB(pid, "VmRSS"));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  try {
    return { value: await work, peak };
  } finally {
    done = true;
    await sampler;
    peak = Math.max(peak, await procStatusMiB(pid, "VmRSS"));
  }
}

/** Result of {@linkcode connectionsRss}. */
export interface ConnectionsRss {
  readonly idleMiB: number;
  readonly peakMiB: number;
  readonly rps: number;
  /** Failed or timed-out requests (reported, not fatal: this is an overload test). */
  readonly errors: number;
}

/**
 * Peak RSS of `pid` while `connections` keep-alive connections stay open and carry `rate` req/s
 * between them (open loop): the memory a connection costs, without overload queueing.
 */
export async function openConnectionsRss(
  pid: number,
  url: string,
  connections: number,
  rate: number,
  seconds: number,
): Promise<{ peakMiB: number; p99Ms: number; errors: number }> {
  const { value, peak } = await sampling(
    pid,
    100,
    openLoop(url, { rate, seconds, connections, warmupSeconds: 0.5 }),
  );
  return { peakMiB: peak, p99Ms: value.p99Ms, errors: value.errors };
}

/** Peak RSS (VmHWM, and sampled VmRSS) of `pid` while wrk holds `connections` keep-alive connections. */
export async function connectionsRss(
  pid: number,
  url: string,
  connections: number,
  seconds: number,
): Promise<ConnectionsRss> {
  const idleMiB = await procStatusMiB(pid, "VmRSS");
  // Overload makes some requests slow, not failed: a generous timeout keeps them counted.
  const { value, peak } = await sampling(pid, 100, wrk(url, connections, seconds, 30));
  const hwm = await procStatusMiB(pid, "VmHWM");
  return { idleMiB, peakMiB: Math.max(hwm, peak), rps: value.rps, errors: value.errors };
}

/** Result of {@linkcode streamingRss}. */
export interface StreamingRss {
  readonly beforeMiB: number;
  readonly peakMiB: number;
  readonly growthMiB: number;
  readonly bytes: number;
  readonly mibPerSecond: number;
}

/** Download `url` (a large body) through the proxy `pid`, discarding it, and report RSS growth. */
export async function streamingRss(pid: number, url: string): Promise<StreamingRss> {
  const beforeMiB = await procStatusMiB(pid, "VmRSS");
  const started = performance.now();
  const download = (async () => {
    const res = await fetch(url);
    if (!res.ok || !res.body) throw new Error(`GET ${url}: ${res.status}`);
    let bytes = 0;
    for await (const chunk of res.body) bytes += chunk.length;
    return bytes;
  })();
  const { value: bytes, peak } = await sampling(pid, 50, download);
  const seconds = (performance.now() - started) / 1000;
  return {
    beforeMiB,
    peakMiB: peak,
    growthMiB: peak - beforeMiB,
    bytes,
    mibPerSecond: bytes / 1024 ** 2 / seconds,
  };
}
