/**
 * One comparison run: one strategy against one scenario, on fresh backends and fresh proxies,
 * under the same seeded open-loop load as every other strategy.
 *
 * The load runs without a break from the start of the warm-up to the end of the measured
 * window; only the requests due in the measured window are measured. So the measurement starts
 * with the queues, connection pools and learned state (EWMA, in-flight counts) that the load
 * itself built, not with an idle system, and the warm-up's own stragglers still occupy the
 * backends while the measurement begins, as they would in a service that never stops.
 *
 * @module
 */

import { startSpecBackend } from "../backend/mod.ts";
import { type LagStats, proxyConfigYaml, sleep, startLagMonitor } from "../shared/mod.ts";
import type { HostedProxy, ProxyHost } from "./proxy.ts";
import { offeredRate, type Scenario, type Variant } from "./scenarios.ts";
import { type HedgeCounts, hedgeCountsSince, totalHedgeCounts } from "./hedge_counts.ts";
import { type Progress, runLoad, type Summary } from "../load/mod.ts";

/** Timing and seeding of a run; the same for every strategy of a comparison. */
export interface RunSettings {
  /** Seed of the measured load; backends and the warm-up derive theirs from it. */
  readonly seed: number;
  /** Load before the measured window, in milliseconds. */
  readonly warmupMs: number;
  /** Measured window, in milliseconds. */
  readonly durationMs: number;
  /** A request without a full response this long after it was sent counts as a timeout. */
  readonly timeoutMs: number;
}

/** What one strategy (or variant) did in one scenario. */
export interface StrategyResult {
  /** The strategy, or the variant's label when the scenario has variants. */
  readonly strategy: string;
  /** The measured window only. */
  readonly summary: Summary;
  /**
   * Requests the proxy sent to each backend during the measured window, answered or not (from
   * `GET /api/backends`: attempts finished plus in flight, at the window's start and end; summed
   * over the proxies when there are several). The
   * load generator's own count per backend only sees answered requests, so a backend whose
   * requests time out would look unloaded there.
   */
  readonly routed: Readonly<Record<string, number>>;
  /**
   * Times passive health ejected each backend from the proxy's start to the window's end: an
   * ejected backend gets no traffic whatever the strategy says, so a share reads differently.
   */
  readonly ejections: Readonly<Record<string, number>>;
  /** Hedges sent, won, lost and refused during the measured window. */
  readonly hedges: HedgeCounts;
  /** Event-loop lag of the thread running the load generator and the backends (whole run). */
  readonly loadLag: LagStats;
  /** Event-loop lag of the proxy's thread (whole run); with several proxies, the worst of them. */
  readonly proxyLag: LagStats;
}

/** Per backend: attempts sent so far (finished plus in flight), and ejections so far. */
async function backendCounts(adminUrl: string): Promise<{
  routed: Record<string, number>;
  ejections: Record<string, number>;
}> {
  const response = await fetch(`${adminUrl}/api/backends`);
  const list = await response.json() as {
    name: string;
    requests: number;
    in_flight: number;
    ejections?: number;
  }[];
  return {
    routed: Object.fromEntries(list.map((b) => [b.name, b.requests + b.in_flight])),
    ejections: Object.fromEntries(list.map((b) => [b.name, b.ejections ?? 0])),
  };
}

/** The counts of several proxies in front of the same backends, summed per backend. */
async function totalCounts(adminUrls: readonly string[]): Promise<Awaited<ReturnType<typeof backendCounts>>> {
  const all = await Promise.all(adminUrls.map(backendCounts));
  const sum = (pick: (c: (typeof all)[number]) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const c of all) for (const [name, n] of Object.entries(pick(c))) out[name] = (out[name] ?? 0) + n;
    return out;
  };
  return { routed: sum((c) => c.routed), ejections: sum((c) => c.ejections) };
}

/** Seed of the i-th backend's latency and error draws: fixed per scenario position and seed. */
function backendSeed(seed: number, index: number): number {
  return (seed * 31 + 1_000 + index) >>> 0;
}

/**
 * Run `variant` against `scenario`: start the backends and its proxies, warm up, measure, stop.
 *
 * @param scenario Backends, offered load and the number of proxies.
 * @param variant Canonical strategy name, or a variant (label, strategy, extra config).
 * @param settings Seed and durations.
 * @param hosts The threads that run the proxies, at least `scenario.proxies` of them; each runs one.
 * @param onProgress Receives the measured load's progress (about every 250 ms).
 */
export async function runStrategy(
  scenario: Scenario,
  variant: string | Variant,
  settings: RunSettings,
  hosts: readonly ProxyHost[],
  onProgress?: (progress: Progress) => void,
): Promise<StrategyResult> {
  const count = scenario.proxies ?? 1;
  if (hosts.length < count) throw new RangeError(`Cannot run ${scenario.name}: needs ${count} proxy threads`);
  const { label, strategy, config } = typeof variant === "string"
    ? { label: variant, strategy: variant, config: undefined }
    : variant;
  const backends = scenario.backends.map((spec, i) =>
    startSpecBackend(spec, backendSeed(settings.seed, i), "compare")
  );
  const lag = startLagMonitor();
  const running: ProxyHost[] = [];
  try {
    const yaml = proxyConfigYaml({
      listen: "127.0.0.1:0",
      adminListen: "127.0.0.1:0",
      strategy,
      backends: backends.map((b, i) => ({ name: b.name, url: b.url, weight: scenario.backends[i].weight })),
      shutdownTimeout: "1s",
      extra: config,
    });
    const proxies: HostedProxy[] = [];
    for (const host of hosts.slice(0, count)) {
      proxies.push(await host.start(yaml));
      running.push(host);
    }
    const admins = proxies.map((p) => p.adminUrl);
    const load = {
      url: proxies[0].url,
      urls: proxies.map((p) => p.url),
      clients: scenario.clients,
      rate: offeredRate(scenario) / scenario.clients,
      timeoutMs: settings.timeoutMs,
    };
    const warmup = settings.warmupMs > 0
      ? runLoad({ ...load, durationMs: settings.warmupMs, seed: (settings.seed ^ 0x5bd1e995) >>> 0 })
      : undefined;
    await sleep(settings.warmupMs);
    const [before, hedgesBefore] = await Promise.all([totalCounts(admins), totalHedgeCounts(admins)]);
    const measured = runLoad(
      { ...load, durationMs: settings.durationMs, seed: settings.seed },
      { onProgress, progressIntervalMs: 250 },
    );
    // Counted once the measured load has drained, not at the window's end by the clock: a
    // snapshot read while a busy machine is late would miss the requests still being routed.
    const [summary] = await Promise.all([measured, warmup]);
    const [end, hedgesAfter] = await Promise.all([totalCounts(admins), totalHedgeCounts(admins)]);
    const lags = [];
    while (running.length > 0) lags.push(await running.shift()!.stop());
    const proxyLag = { p99: Math.max(...lags.map((l) => l.p99)), max: Math.max(...lags.map((l) => l.max)) };
    const routed = Object.fromEntries(
      Object.entries(end.routed).map(([name, n]) => [name, n - (before.routed[name] ?? 0)]),
    );
    const hedges = hedgeCountsSince(hedgesBefore, hedgesAfter);
    return {
      strategy: label,
      summary,
      routed,
      ejections: end.ejections,
      hedges,
      loadLag: lag.stop(),
      proxyLag,
    };
  } finally {
    lag.stop();
    for (const host of running) await host.stop().catch(() => undefined);
    await Promise.all(backends.map((b) => b.close()));
  }
}
