/**
 * Open-loop HTTP load generator: sends requests on a fixed schedule and reports latency
 * percentiles, status codes, error kinds and the share each backend served.
 *
 * Open loop means a slow or stalled target cannot slow the load down: requests keep coming at
 * the scheduled rate and their latency counts from when they were due, so a 500 ms stall shows
 * up as hundreds of slow requests, not as one (see `load_request.ts`).
 *
 * @example Run
 * ```sh
 * deno task load --url http://127.0.0.1:8080/ --clients 10 --rate 20 --duration 30s
 * ```
 *
 * @module
 */

import { randomSeed, runCli, seededRandom } from "../shared/mod.ts";
import { LOAD_DEFAULTS, LOAD_USAGE, type LoadOptions, parseLoadArgs } from "./config.ts";
import { createRecorder } from "./recorder.ts";
import { dispatch } from "./dispatch.ts";
import { type Progress, startProgress } from "./progress.ts";
import { planClients } from "./schedule.ts";
import { type Resolve, resolveTargets } from "./failover.ts";
import { formatProgress, formatSummary } from "./report.ts";
import type { Summary } from "./summary.ts";

export type { Progress } from "./progress.ts";

/** How often `--failover` looks the target's name up again: about a DNS client's cache time. */
const TARGET_REFRESH_MS = 1_000;

/** Cancellation and progress reporting for {@linkcode runLoad}. */
export interface RunHooks {
  /** Stop early: no new requests, in-flight ones are abandoned, the summary covers what happened. */
  readonly signal?: AbortSignal;
  /** Called every `progressIntervalMs` while running. */
  readonly onProgress?: (progress: Progress) => void;
  /** @default {1000} */
  readonly progressIntervalMs?: number;
  /** The name lookup `failover` uses. @default Deno.resolveDns(host, "A") */
  readonly resolve?: Resolve;
}

/**
 * Run open-loop load against `options.url` and summarise it.
 *
 * @param options The target and any of {@linkcode LoadOptions}; the rest are the defaults.
 * @param hooks Optional abort signal and progress callback.
 * @returns The summary once every sent request has finished (each within its timeout).
 * @throws {RangeError} When neither a finite duration nor a request count bounds the run.
 *
 * @example Usage
 * ```ts
 * import { runLoad } from "./load.ts";
 * const summary = await runLoad({ url: "http://127.0.0.1:8080/", clients: 4, rate: 50, durationMs: 2_000, seed: 1 });
 * console.log(summary.latencyMs?.p99, summary.backends);
 * ```
 */
export async function runLoad(
  options: Partial<LoadOptions> & { url: string },
  hooks: RunHooks = {},
): Promise<Summary> {
  const o: LoadOptions = { ...LOAD_DEFAULTS, ...options };
  const seed = o.seed ?? randomSeed();
  const plans = planClients(o.clients, o.rate, o.durationMs, o.requests, seededRandom(seed));
  const now = () => performance.now();
  const recorder = createRecorder();
  const cancel = new AbortController();
  const onAbort = () => cancel.abort(hooks.signal?.reason);
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener("abort", onAbort, { once: true });
  // Ends waits for an in-flight slot once the window is over: what is still queued then is unsent.
  const windowOver = new AbortController();
  const start = now();
  const windowTimer = Number.isFinite(o.durationMs)
    ? setTimeout(() => windowOver.abort(new Error("window over")), o.durationMs)
    : undefined;
  const stopWaiting = AbortSignal.any([cancel.signal, windowOver.signal]);
  const progress = startProgress(recorder, hooks.onProgress, hooks.progressIntervalMs ?? 1_000, now);
  const targets = o.failover ? await resolveTargets(o.url, TARGET_REFRESH_MS, hooks.resolve) : undefined;
  const base = {
    url: o.url,
    method: o.method,
    body: o.body,
    timeoutMs: o.timeoutMs,
    cancel: cancel.signal,
    targets,
    attemptTimeoutMs: o.attemptTimeoutMs,
  };
  const dispatched = await Promise.all(plans.map((plan) => {
    const headers = new Headers(o.headers as [string, string][]);
    headers.set(o.clientHeader, plan.address);
    // One connection pool per client, as separate machines would have.
    const spec = { ...base, headers, client: Deno.createHttpClient({}) };
    return dispatch(plan, { spec, start, maxInFlight: o.maxInFlight, stopWaiting, recorder, now });
  }));
  const windowMs = Math.min(now() - start, o.durationMs);
  clearTimeout(windowTimer);
  await Promise.all(dispatched.map((d) => d.drained));
  await targets?.close();
  const elapsedMs = now() - start;
  progress.stop();
  hooks.signal?.removeEventListener("abort", onAbort);
  const counts = recorder.counts();
  const scheduled = dispatched.reduce((sum, d) => sum + d.scheduled, 0);
  const unsent = Math.max(0, scheduled - counts.sent);
  return {
    url: o.url,
    method: o.method,
    clients: o.clients,
    ratePerClient: o.rate,
    targetRate: o.rate * o.clients,
    seed,
    durationMs: Number.isFinite(o.durationMs) ? o.durationMs : null,
    windowMs,
    elapsedMs,
    scheduled,
    unsent,
    ...counts,
    sendRate: windowMs > 0 ? (counts.sent * 1_000) / windowMs : 0,
    achievedRate: elapsedMs > 0 ? (counts.completed * 1_000) / elapsedMs : 0,
    errorRate: scheduled ? (counts.failed + counts.serverErrors + unsent) / scheduled : 0,
  };
}

/** Command-line entry: parse, run with live progress on stderr, print the summary, exit 1 over `--max-errors`. */
export async function main(args: string[] = Deno.args): Promise<number> {
  return await runCli(args, { usage: LOAD_USAGE, parse: parseLoadArgs, run: loadWithProgress });
}

/** Run with live progress on stderr and print the summary; 1 over `--max-errors`. */
async function loadWithProgress(options: LoadOptions): Promise<number> {
  const encoder = new TextEncoder();
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  // On a terminal one line is redrawn in place; in logs a plain line per interval is kept.
  const tty = Deno.stderr.isTerminal();
  const stop = new AbortController();
  const interrupt = () => stop.abort(new Error("interrupted"));
  // Never removed: under `deno task` one Ctrl-C arrives twice (see stopSignal in demo/shared/).
  Deno.addSignalListener("SIGINT", interrupt);
  const summary = await runLoad(options, {
    signal: stop.signal,
    progressIntervalMs: tty ? 250 : 1_000,
    onProgress: (p) => write(tty ? `\r\x1b[2K${formatProgress(p)}` : `${formatProgress(p)}\n`),
  });
  if (tty) write("\r\x1b[2K");
  console.log(options.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  if (options.maxErrors !== undefined && summary.errorRate > options.maxErrors) {
    console.error(
      `error rate ${(summary.errorRate * 100).toFixed(2)}% exceeds --max-errors ${options.maxErrors}`,
    );
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
