/**
 * An open-loop HTTP/1.1 load generator: requests leave on a fixed schedule whatever the server's
 * latency, so a slow server cannot slow the load down and hide its own queueing (coordinated
 * omission). wrk2 is not packaged in Debian; this small client stands in for it.
 *
 * Latency is measured from the moment the scheduler noticed a request was due: timer lateness of
 * this client is excluded, but waiting for a free connection (the server still busy with earlier
 * requests) is included. The client reuses the project's own response parser.
 *
 * @module
 */

import { parseChunkSize } from "../../lib/http1/mod.ts";
import { framingOf, UpstreamConn } from "../../lib/upstream/mod.ts";

/** Options for {@linkcode openLoop}. */
export interface OpenLoopOptions {
  /** Requests per second. */
  readonly rate: number;
  /** Measured seconds (after the warmup). */
  readonly seconds: number;
  /** Keep-alive connections. @default 32 */
  readonly connections?: number;
  /** Seconds at the start whose requests are sent but not recorded. @default 1 */
  readonly warmupSeconds?: number;
}

/** Latency percentiles of one fixed-rate run. */
export interface OpenLoopResult {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly recorded: number;
  readonly errors: number;
  /** Message of the last error, for the log. */
  readonly lastError: string;
}

/** The value at quantile `q` of ascending `sorted` (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function exchange(c: UpstreamConn, head: Uint8Array): Promise<void> {
  await c.writeAll(head);
  const res = await c.readHead();
  const framing = framingOf("GET", res);
  if (framing.kind === "length") {
    for (let left = framing.length; left > 0;) {
      const data = await c.readSome(left);
      if (data === null) throw new Error("closed inside the body");
      left -= data.length;
    }
  } else if (framing.kind === "chunked") {
    for (let size; (size = parseChunkSize(await c.readLine())) !== 0;) {
      if (size < 0) throw new Error("bad chunk size");
      for (let left = size; left > 0;) {
        const data = await c.readSome(left);
        if (data === null) throw new Error("closed inside a chunk");
        left -= data.length;
      }
      await c.readLine();
    }
    while ((await c.readLine()) !== "");
  } else if (framing.kind === "close") {
    throw new Error("response without length: cannot keep the connection");
  }
  if (res.status >= 400 || res.close) throw new Error(`status ${res.status}`);
}

/** Send GET `url` at a fixed rate and return latency percentiles. */
export async function openLoop(url: string, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const u = new URL(url);
  const port = Number(u.port);
  const head = new TextEncoder().encode(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
  const connect = async () =>
    new UpstreamConn(await Deno.connect({ hostname: u.hostname, port }).then((c) => (c.setNoDelay(true), c)));
  const idle: UpstreamConn[] = [];
  for (let i = 0; i < (options.connections ?? 32); i++) idle.push(await connect());

  const interval = 1000 / options.rate;
  const t0 = performance.now();
  const recordFrom = t0 + (options.warmupSeconds ?? 1) * 1000;
  const end = recordFrom + options.seconds * 1000;
  const latencies: number[] = [];
  const backlog: number[] = [];
  let errors = 0;
  let lastError = "";
  let inFlight = 0;

  let windowSent = 0;
  const send = (c: UpstreamConn, noticed: number) => {
    inFlight++;
    if (noticed >= recordFrom) windowSent++;
    exchange(c, head).then(
      () => {
        const t = performance.now();
        if (noticed >= recordFrom) latencies.push(t - noticed);
        return c;
      },
      async (e) => {
        errors++;
        lastError = (e as Error).message;
        c.close();
        // A server that cannot take a new connection loses this slot for the rest of the run.
        return await connect().catch(() => undefined);
      },
    ).then((next) => {
      inFlight--;
      if (!next) return;
      const queued = backlog.shift();
      if (queued !== undefined) send(next, queued);
      else idle.push(next);
    });
  };

  // A client descheduled for the whole window (a busy machine) would record nothing: the window
  // is extended, by at most twice its length, until some of its requests have been sent.
  const minSent = Math.min(100, Math.ceil(options.rate * options.seconds / 10));
  const hardEnd = end + 2 * options.seconds * 1000;
  for (let n = 0;;) {
    const now = performance.now();
    if (now >= hardEnd || (now >= end && windowSent >= minSent)) break;
    for (; t0 + n * interval <= now; n++) {
      const c = idle.shift();
      if (c) send(c, now);
      else backlog.push(now);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + n * interval - performance.now())));
  }
  backlog.length = 0;
  for (let waited = 0; inFlight > 0 && waited < 5000; waited += 10) {
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const c of idle) c.close();
  latencies.sort((a, b) => a - b);
  return {
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    recorded: latencies.length,
    errors,
    lastError,
  };
}
