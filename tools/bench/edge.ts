/**
 * The edge-protocol sections of `deno task bench:proxy`: HTTPS throughput (HTTP/1.1 with `wrk`,
 * h2 with `h2load`) of this proxy, NGINX and Caddy; WebSocket echo throughput through this proxy
 * and NGINX against one echo backend; and the RSS that idle WebSocket tunnels cost each. Rounds
 * are interleaved like the plain sections, and each run also records the CPU time the target's
 * processes spent per request, which background load on the machine disturbs far less than rates.
 *
 * @module
 */

import { throwawayCert } from "./cert.ts";
import {
  caddyHttps,
  type HttpsTarget,
  lbHttps,
  lbWs,
  nginxHttps,
  nginxWs,
  startWsBackend,
  tlsForwarder,
  type WsTarget,
} from "./edge_targets.ts";
import { h2load } from "./h2load.ts";
import { treeCpuMs, treeRssKiB } from "./proc_stats.ts";
import { run } from "./procs.ts";
import type { TargetEnv } from "./targets.ts";
import { wrk } from "./wrk.ts";
import { closeQuietly, echoThroughput, openIdleSockets } from "./ws_load.ts";

/** What the edge sections run. */
export interface EdgeSettings {
  readonly quick: boolean;
  readonly rounds: number;
  /** Seconds of each HTTPS run (wrk `-d`, h2load `-D`) and each WebSocket echo run. */
  readonly seconds: number;
  /** wrk connections for HTTP/1.1 over TLS. */
  readonly h1Connections: number;
  /** h2load `-c` and `-m`. */
  readonly h2Clients: number;
  readonly h2Streams: number;
  /** WebSocket echo: sockets (one message in flight each) and payload bytes. */
  readonly wsSockets: number;
  readonly wsBytes: number;
  /** Idle WebSocket tunnels opened for the memory measure. */
  readonly idleTunnels: number;
  /** Target names to measure besides this proxy (all when empty). */
  readonly only: readonly string[];
}

/** One HTTPS protocol's runs of one target. */
export interface HttpsRuns {
  /** req/s per round, in round order. */
  readonly rounds: number[];
  /** wrk: p99 per round; h2load: mean request time per round (ms). */
  readonly latencyMs: number[];
  /** CPU time of the target's processes per request, per round (µs). */
  readonly cpuUs: number[];
  errors: number;
}

/** HTTPS results of one target. */
export interface HttpsRow {
  readonly target: string;
  readonly h1: HttpsRuns;
  readonly h2: HttpsRuns;
  /** TLS version and cipher h2load negotiated, and the application protocol. */
  tls: string;
  protocol: string;
}

/** WebSocket echo results of one target. */
export interface WsEchoRow {
  readonly target: string;
  /** Messages echoed per second, per round. */
  readonly rounds: number[];
  readonly meanRttMs: number[];
  /** CPU of the target's processes per echoed message (µs); the backend's for `direct`. */
  readonly cpuUs: number[];
  /** CPU of the echo backend per message (µs). */
  readonly backendCpuUs: number[];
  errors: number;
  lastError: string;
}

/** RSS of one proxy before and with its idle WebSocket tunnels open. */
export interface IdleTunnelsRow {
  readonly target: string;
  readonly tunnels: number;
  readonly beforeKiB: number;
  readonly withKiB: number;
  /** RSS after the tunnels were closed again. */
  readonly afterCloseKiB: number;
}

/** Everything the edge sections measured. */
export interface EdgeResults {
  readonly settings: EdgeSettings;
  readonly https: readonly HttpsRow[];
  readonly ws: readonly WsEchoRow[];
  readonly idle: readonly IdleTunnelsRow[];
  readonly notes: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const has = async (cmd: string) => await run("which", [cmd]).then(() => true, () => false);

/** CPU µs the target's processes spent per unit of `work()`'s count. */
async function withCpu<T>(pid: number | undefined, work: () => Promise<T>, count: (r: T) => number) {
  const before = pid === undefined ? 0 : treeCpuMs(pid);
  const result = await work();
  const n = count(result);
  const cpuUs = pid === undefined || n <= 0 ? NaN : ((treeCpuMs(pid) - before) * 1000) / n;
  return { result, cpuUs };
}

async function httpsSection(
  env: TargetEnv,
  s: EdgeSettings,
  progress: (m: string) => void,
  notes: string[],
): Promise<HttpsRow[]> {
  const want = (name: string) => s.only.length === 0 || s.only.includes(name);
  const cert = await throwawayCert(env.dir);
  const targets: HttpsTarget[] = [await lbHttps(env, cert)];
  if (want("forwarder")) {
    targets.push(await tlsForwarder(env, cert, false), await tlsForwarder(env, cert, true));
  }
  if (want("nginx")) targets.push(await nginxHttps(env, cert));
  if (want("caddy")) {
    if (await has("caddy")) targets.push(await caddyHttps(env, cert));
    else notes.push("HTTPS: `caddy` not installed, not measured.");
  }
  const rows = targets.map((t): HttpsRow => ({
    target: t.name,
    h1: { rounds: [], latencyMs: [], cpuUs: [], errors: 0 },
    h2: { rounds: [], latencyMs: [], cpuUs: [], errors: 0 },
    tls: "",
    protocol: "",
  }));
  const h2Options = (seconds: number) => ({ clients: s.h2Clients, streams: s.h2Streams, seconds });
  if (!s.quick) {
    for (const t of targets) {
      await wrk(t.url, s.h1Connections, 2);
      if (!t.h1Only) await h2load(t.url, h2Options(2));
    }
  }
  try {
    for (let round = 0; round < s.rounds; round++) {
      for (const [i, t] of targets.entries()) {
        const pid = t.proc?.pid;
        const h1 = await withCpu(pid, () => wrk(t.url, s.h1Connections, s.seconds), (r) => r.rps * s.seconds);
        const row = rows[i];
        row.h1.rounds.push(h1.result.rps),
          row.h1.latencyMs.push(h1.result.p99Ms),
          row.h1.cpuUs.push(h1.cpuUs);
        row.h1.errors += h1.result.errors;
        if (t.h1Only) {
          progress(
            `https round ${round + 1} ${t.name}: h1 ${h1.result.rps.toFixed(0)} req/s ` +
              `(${h1.cpuUs.toFixed(0)} µs CPU), ${h1.result.errors} errors`,
          );
          continue;
        }
        const h2 = await withCpu(pid, () => h2load(t.url, h2Options(s.seconds)), (r) => r.rps * s.seconds);
        row.h2.rounds.push(h2.result.rps),
          row.h2.latencyMs.push(h2.result.meanMs),
          row.h2.cpuUs.push(h2.cpuUs);
        row.h2.errors += h2.result.errors;
        row.tls = h2.result.tls, row.protocol = h2.result.protocol;
        progress(
          `https round ${round + 1} ${t.name}: h1 ${h1.result.rps.toFixed(0)} req/s ` +
            `(${h1.cpuUs.toFixed(0)} µs CPU), h2 ${h2.result.rps.toFixed(0)} req/s (${
              h2.cpuUs.toFixed(0)
            } µs CPU), ` +
            `${h1.result.errors + h2.result.errors} errors, ${h2.result.protocol} ${h2.result.tls}`,
        );
      }
    }
  } finally {
    for (const t of targets) if (t.proc) await env.procs.stop(t.proc);
  }
  return rows;
}

async function wsEchoSection(
  env: TargetEnv,
  s: EdgeSettings,
  backend: WsTarget,
  progress: (m: string) => void,
): Promise<WsEchoRow[]> {
  const want = (name: string) => s.only.length === 0 || s.only.includes(name);
  const targets: WsTarget[] = [backend, await lbWs(env, backend.port)];
  if (want("nginx")) targets.push(await nginxWs(env, backend.port));
  const rows = targets.map((t): WsEchoRow => ({
    target: t.name,
    rounds: [],
    meanRttMs: [],
    cpuUs: [],
    backendCpuUs: [],
    errors: 0,
    lastError: "",
  }));
  const options = (seconds: number, warmupSeconds: number) => ({
    sockets: s.wsSockets,
    size: s.wsBytes,
    seconds,
    warmupSeconds,
  });
  if (!s.quick) { for (const t of targets) await echoThroughput(t.port, options(2, 0)); }
  const backendPid = backend.proc!.pid;
  try {
    for (let round = 0; round < s.rounds; round++) {
      for (const [i, t] of targets.entries()) {
        // CPU is counted over warmup and measured time alike: divide by every message of the run.
        const warmup = s.quick ? 0.2 : 1;
        const be0 = treeCpuMs(backendPid);
        const { result: r, cpuUs } = await withCpu(
          t.proc!.pid,
          () => echoThroughput(t.port, options(s.seconds, warmup)),
          (r) => r.total,
        );
        const backendCpuUs = r.total > 0 ? ((treeCpuMs(backendPid) - be0) * 1000) / r.total : NaN;
        const row = rows[i];
        row.rounds.push(r.perSecond), row.meanRttMs.push(r.meanRttMs);
        row.cpuUs.push(cpuUs), row.backendCpuUs.push(backendCpuUs);
        row.errors += r.errors;
        if (r.lastError) row.lastError = r.lastError;
        progress(
          `ws echo round ${round + 1} ${t.name}: ${r.perSecond.toFixed(0)} msg/s, ${
            cpuUs.toFixed(1)
          } µs CPU ` +
            `per message (backend ${backendCpuUs.toFixed(1)}), ${r.errors} errors ${r.lastError}`,
        );
      }
    }
  } finally {
    for (const t of targets.slice(1)) if (t.proc) await env.procs.stop(t.proc);
  }
  return rows;
}

/** RSS of a fresh proxy, warmed with a few tunnels, then with `count` idle tunnels open. */
async function idleTunnels(
  target: WsTarget,
  count: number,
  settleMs: number,
  progress: (m: string) => void,
): Promise<IdleTunnelsRow> {
  const pid = target.proc!.pid;
  // A few tunnels first, so code loaded and compiled for the first one is not counted per tunnel.
  (await openIdleSockets(target.port, 10)).forEach((ws) => closeQuietly(ws));
  await sleep(settleMs);
  const beforeKiB = treeRssKiB(pid);
  const open = await openIdleSockets(target.port, count);
  let withKiB: number;
  try {
    await sleep(settleMs);
    withKiB = treeRssKiB(pid);
  } finally {
    open.forEach((ws) => closeQuietly(ws));
  }
  await sleep(settleMs);
  const afterCloseKiB = treeRssKiB(pid);
  progress(
    `idle tunnels ${target.name}: ${beforeKiB} KiB, with ${count} tunnels ${withKiB} KiB ` +
      `(${((withKiB - beforeKiB) / count).toFixed(1)} KiB each), after closing ${afterCloseKiB} KiB`,
  );
  return { target: target.name, tunnels: count, beforeKiB, withKiB, afterCloseKiB };
}

/**
 * Run the edge sections on the run's backend (HTTPS) and a WebSocket echo backend of their own.
 * Every process started here is stopped before it returns (the run's {@linkcode TargetEnv.procs}
 * stops them too if it throws).
 *
 * @param env The run's temp dir, processes, NGINX backend and checkout.
 * @param s What to run; see {@linkcode EdgeSettings}.
 * @param progress Where progress lines go.
 * @returns rows for the report's HTTPS, WebSocket echo and idle tunnel sections
 */
export async function benchEdge(
  env: TargetEnv,
  s: EdgeSettings,
  progress: (message: string) => void,
): Promise<EdgeResults> {
  const notes: string[] = [];
  const https = (await has("h2load"))
    ? await httpsSection(env, s, progress, notes)
    : (notes.push("HTTPS: `h2load` (nghttp2-client) not installed, not measured."), []);
  const backend = await startWsBackend(env);
  try {
    const ws = await wsEchoSection(env, s, backend, progress);
    // Fresh proxies, so the echo runs' garbage and buffers are not in the numbers.
    const idle: IdleTunnelsRow[] = [];
    const settleMs = s.quick ? 300 : 2000;
    const starts: [string, () => Promise<WsTarget>][] = [["lb", () => lbWs(env, backend.port, "lb_ws_idle")]];
    if (s.only.length === 0 || s.only.includes("nginx")) {
      starts.push(["nginx", () => nginxWs(env, backend.port, "nginx_ws_idle")]);
    }
    for (const [, start] of starts) {
      const target = await start();
      try {
        idle.push(await idleTunnels(target, s.idleTunnels, settleMs, progress));
      } finally {
        await env.procs.stop(target.proc!);
      }
    }
    return { settings: s, https, ws, idle, notes };
  } finally {
    await env.procs.stop(backend.proc!);
  }
}
