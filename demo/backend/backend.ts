/**
 * Demo backend: an HTTP server whose latency, CPU cost, capacity and failure rate are chosen,
 * so load-balancing strategies can be compared against servers that behave like real ones.
 *
 * Endpoints: `/` (JSON `{backend, port, hostname, timestamp, latency_ms}`), `/health`, `/echo`,
 * `/bytes?n=N`, the WebSocket echo `/ws`, and the admin switches described in `admin.ts`.
 *
 * @example Run one
 * ```sh
 * deno task backend --port 8081 --name a --latency 20ms --jitter 5ms --distribution lognormal --capacity 8
 * ```
 *
 * @module
 */

import {
  createSemaphore,
  processCpuMs,
  randomSeed,
  runCli,
  seededRandom,
  stopSignal,
} from "../shared/mod.ts";
import { BACKEND_DEFAULTS, BACKEND_USAGE, type BackendOptions, parseBackendArgs } from "./config.ts";
import type { BackendState } from "./context.ts";
import { createBackendHandler } from "./handler.ts";
import { activate, type Profile } from "./profile.ts";

/** A running backend. */
export interface RunningBackend {
  /** Port actually bound (useful with port 0). */
  readonly port: number;
  /** Name reported in responses. */
  readonly name: string;
  /** Base URL on loopback, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Seed used for latency and error draws; pass it back to repeat a run. */
  readonly seed: number;
  /** Runtime switches, the same ones the admin endpoints change. */
  readonly state: BackendState;
  /** Stop listening, fail waiting requests with 503 and wait for open responses to end. */
  close(): Promise<void>;
}

/**
 * Start a demo backend in this process.
 *
 * @param options Any of {@linkcode BackendOptions}; the rest come from {@linkcode BACKEND_DEFAULTS}.
 * @param deps Wall clock, CPU clock and host name, injectable for tests.
 * @returns The running backend, already listening (binding errors such as a taken port throw).
 *
 * @example Usage
 * ```ts
 * import { startBackend } from "./backend.ts";
 * const backend = startBackend({ port: 0, host: "127.0.0.1", latencyMs: 20 });
 * const body = await (await fetch(backend.url)).json(); // { backend: "backend-<port>", ... }
 * await backend.close();
 * ```
 */
export function startBackend(
  options: Partial<BackendOptions> = {},
  deps: { now?: () => number; cpuTime?: () => number; hostname?: string } = {},
): RunningBackend {
  const o: BackendOptions = { ...BACKEND_DEFAULTS, ...options };
  const seed = o.seed ?? randomSeed();
  const random = seededRandom(seed);
  const now = deps.now ?? (() => performance.now());
  const profile: Profile = {
    latencyMs: o.latencyMs,
    jitterMs: o.jitterMs,
    distribution: o.distribution,
    cpuMs: o.cpuMs,
    errorRate: o.errorRate,
    tailRatio: o.tailRatio,
    tailMs: o.tailMs,
  };
  const state: BackendState = { healthy: true, pausedUntil: 0, active: activate(profile, random) };
  const closing = new AbortController();
  // The handler needs the bound port, known only once Deno.serve returns; requests handled
  // before the assignment below cannot exist because the event loop has not run yet.
  let handle = (_request: Request): Promise<Response> => Promise.reject(new Error("not listening yet"));
  const server = Deno.serve({
    port: o.port,
    hostname: o.host,
    onListen: () => {},
  }, (request) => handle(request));
  const port = server.addr.port;
  const name = o.name ?? `backend-${port}`;
  handle = createBackendHandler({
    name,
    port,
    hostname: deps.hostname ?? hostName(),
    slots: createSemaphore(o.capacity),
    random,
    now,
    cpuTime: deps.cpuTime ?? processCpuMs,
    closing: closing.signal,
    state,
  });
  const loopback = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host;
  const host = loopback.includes(":") ? `[${loopback}]` : loopback;
  return {
    port,
    name,
    url: `http://${host}:${port}`,
    seed,
    state,
    async close() {
      closing.abort(new Error("backend closed"));
      await server.shutdown();
    },
  };
}

/** The machine's host name (a container's id in Docker), or "unknown" without permission. */
function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

/** Command-line entry: parse flags and environment, start, stop cleanly on SIGINT/SIGTERM. */
export async function main(args: string[] = Deno.args): Promise<number> {
  return await runCli(args, { usage: BACKEND_USAGE, parse: parseBackendArgs, run: serve });
}

/** Serve until SIGINT or SIGTERM; 1 when the port cannot be bound. */
async function serve(options: BackendOptions): Promise<number> {
  let backend: RunningBackend;
  try {
    backend = startBackend(options);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(`Cannot listen on ${options.host}:${options.port}: ${reason}`);
    return 1;
  }
  console.log(`backend ${backend.name} listening on ${options.host}:${backend.port} (seed ${backend.seed})`);
  await stopSignal();
  await backend.close();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
