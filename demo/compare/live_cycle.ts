/**
 * Cycle one service of a running proxy through its strategies, so dashboards (and this command's
 * own table) show them side by side under the same live load.
 *
 * ```
 * deno task cycle http://localhost:8081 [--service NAME] --every 60s [--strategies a,b] [--rounds N]
 *                 [--token T]
 * ```
 *
 * The service is `--service`, or the proxy's only one (`GET /api/services`); with several and no
 * `--service` it stops at once with an error listing them. Each period switches that service
 * (`PUT /api/services/{service}/strategy`), waits `every`, then reads the service's section of
 * `GET /api/stats?window=<every>` and prints that strategy's per-backend numbers. On Ctrl-C or
 * after `--rounds` it restores the strategy that was active at the start and prints one
 * comparison table.
 *
 * @module
 */

import { formatDuration } from "../../lib/config/mod.ts";
import type { StatusReport } from "../../lib/admin/mod.ts";
import { runCli } from "../shared/mod.ts";
import { CYCLE_USAGE, type CycleOptions, parseCycleArgs } from "./cycle_config.ts";
import type { CyclePeriod } from "./cycle_period.ts";
import { formatComparison, formatPeriod } from "./cycle_table.ts";

/** Options for {@linkcode runLiveCycle}. */
export interface LiveCycleOptions {
  /** Admin listener base URL, e.g. `http://localhost:8081`. */
  adminUrl: string;
  /** Time each strategy stays active, in ms. */
  every: number;
  /** Strategies to cycle through, in order. @default every strategy the proxy lists */
  strategies?: readonly string[];
  /** The service to cycle. @default the proxy's only service (an error when it has several) */
  service?: string;
  /** Admin bearer token, when `admin.token` is set. */
  token?: string;
  /** Stop (then restore and summarise) when aborted. */
  signal?: AbortSignal;
  /** Stop after this many periods. @default Infinity */
  rounds?: number;
  /** Put the starting strategy back at the end. @default true */
  restore?: boolean;
  /** Receives progress lines. @default console.log */
  print?: (line: string) => void;
}

/**
 * Outcome of {@linkcode runLiveCycle}: errors are values (one line each), so the CLI decides the
 * exit code. `service` is the service cycled, once it is known.
 */
export type LiveCycleResult =
  | { ok: true; service: string; periods: CyclePeriod[]; restored?: string }
  | { ok: false; error: string; service?: string; periods: CyclePeriod[]; restored?: string };

/** Resolve after `ms`, or early (false) when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(completed);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A JSON (or, failing that, text) answer of the admin API. */
type Call = (path: string, init?: RequestInit) => Promise<{ status: number; body: unknown }>;

/**
 * The service to cycle: `wanted` when the proxy has it, else its only service.
 *
 * @returns the name, or a one-line error naming the services there are
 */
async function chooseService(
  call: Call,
  wanted: string | undefined,
): Promise<{ name: string } | { error: string }> {
  const r = await call("/api/services");
  if (r.status !== 200 || !Array.isArray(r.body)) {
    return { error: `GET /api/services answered HTTP ${r.status}: is this the lb admin listener?` };
  }
  const names = (r.body as { name: string }[]).map((s) => s.name);
  if (wanted !== undefined) {
    return names.includes(wanted)
      ? { name: wanted }
      : { error: `no service named ${JSON.stringify(wanted)}; services: ${names.join(", ")}` };
  }
  if (names.length === 1) return { name: names[0] };
  return {
    error: `the proxy has ${names.length} services (${names.join(", ")}): pick one with --service NAME`,
  };
}

/**
 * Cycle one service's strategies on a running proxy until `rounds` periods have run or `signal`
 * aborts.
 *
 * @param options The admin URL, the period, and optionally the service, strategies and token.
 * @returns The periods measured and the strategy restored, or the error that stopped the cycle.
 *
 * @example
 * ```ts ignore
 * const stop = new AbortController();
 * const result = await runLiveCycle({
 *   adminUrl: "http://localhost:8081",
 *   service: "api",
 *   every: 60_000,
 *   signal: stop.signal,
 * });
 * ```
 */
export async function runLiveCycle(options: LiveCycleOptions): Promise<LiveCycleResult> {
  const print = options.print ?? console.log;
  const base = options.adminUrl.replace(/\/+$/, "");
  const periods: CyclePeriod[] = [];
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let service: string | undefined;
  const fail = (error: string): LiveCycleResult => ({ ok: false, error, service, periods });
  if (!(options.every >= 1000)) return fail(`every must be at least 1s, got ${options.every}ms`);

  const call: Call = async (path, init) => {
    const r = await fetch(base + path, init);
    const text = await r.text();
    try {
      return { status: r.status, body: JSON.parse(text) };
    } catch {
      return { status: r.status, body: text.trim() };
    }
  };

  let initial: { strategy: string; available: string[] };
  let strategyPath: string;
  try {
    const chosen = await chooseService(call, options.service);
    if ("error" in chosen) return fail(chosen.error);
    service = chosen.name;
    strategyPath = `/api/services/${encodeURIComponent(service)}/strategy`;
    const r = await call(strategyPath);
    if (r.status !== 200) return fail(`GET ${base}${strategyPath} answered HTTP ${r.status}`);
    initial = r.body as typeof initial;
  } catch (e) {
    return fail(`cannot reach the admin API at ${base}: ${(e as Error).message}`);
  }
  const name = service;
  const setStrategy = async (strategy: string): Promise<string | undefined> => {
    const r = await call(strategyPath, { method: "PUT", headers, body: JSON.stringify({ strategy }) });
    if (r.status === 401) return "the proxy wants the admin token (--token or LB_ADMIN_TOKEN)";
    if (r.status !== 200) {
      return `cannot switch ${name} to ${strategy}: HTTP ${r.status} ${JSON.stringify(r.body)}`;
    }
  };
  const strategies = options.strategies?.length ? options.strategies : initial.available;
  const unknown = strategies.filter((s) => !initial.available.includes(s));
  if (unknown.length) {
    return fail(`unknown strategy ${unknown.join(", ")}; valid: ${initial.available.join(", ")}`);
  }
  if (strategies.length === 1) {
    print(`only one strategy to show (${strategies[0]}): it stays on for every period`);
  }

  // At least two one-second buckets, so a read right after a second boundary still has data.
  const window = Math.max(2, Math.min(60, Math.floor(options.every / 1000)));
  const rounds = options.rounds ?? Infinity;
  let error: string | undefined;
  try {
    for (let i = 0; i < rounds && !options.signal?.aborted; i++) {
      const strategy = strategies[i % strategies.length];
      error = await setStrategy(strategy);
      if (error) break;
      print(
        `${new Date().toISOString()} ${name}: strategy -> ${strategy} for ${formatDuration(options.every)}`,
      );
      if (!(await pause(options.every, options.signal))) break;
      const r = await call(`/api/stats?window=${window}`);
      if (r.status !== 200) {
        error = `GET /api/stats answered HTTP ${r.status}`;
        break;
      }
      const stats = r.body as StatusReport;
      const section = stats.services?.find((s) => s.name === name);
      if (!section) {
        error = `service ${name} is no longer in /api/stats (a reload removed it?)`;
        break;
      }
      const period = {
        service: name,
        strategy,
        report: { window_seconds: stats.window_seconds, backends: section.backends },
      };
      periods.push(period);
      print(formatPeriod(period));
    }
  } catch (e) {
    error = `lost the admin API at ${base}: ${(e as Error).message}`;
  }
  let restored: string | undefined;
  if (options.restore ?? true) {
    const again = await setStrategy(initial.strategy).catch((e) => (e as Error).message);
    if (again) error ??= `cannot restore ${initial.strategy}: ${again}`;
    else restored = initial.strategy;
  }
  if (periods.length) print(formatComparison(periods));
  return error
    ? { ok: false, error, service: name, periods, restored }
    : { ok: true, service: name, periods, restored };
}

/** CLI entry point; returns the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  return await runCli(args, { usage: CYCLE_USAGE, parse: parseCycleArgs, run: cycle });
}

/** Cycle until `--rounds` or Ctrl-C, then report what was restored; 1 on any error. */
async function cycle(options: CycleOptions): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const result = await runLiveCycle({ ...options, signal: stop.signal });
    if (result.restored) console.log(`restored strategy ${result.restored} of ${result.service}`);
    if (!result.ok) console.error(`error: ${result.error}`);
    return result.ok ? 0 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}

if (import.meta.main) Deno.exit(await main());
