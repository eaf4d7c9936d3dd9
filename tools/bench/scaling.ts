/**
 * The benchmark's workers section: this proxy with `workers: 2` against itself with 1, and NGINX
 * with `worker_processes 2` against 1, under the same load in interleaved rounds. Each proxy's
 * scaling factor is its 2-isolate throughput over its 1-isolate throughput; the goal compares
 * the two factors (ours >= 0.9x NGINX's).
 *
 * The load must be able to use two cores, so wrk runs two threads (`-t2`) with twice the
 * connections of the single-core rows. On a 2-core machine the load generator and the backend
 * need CPU too: neither proxy can double, and the factors say how much of the second core each
 * proxy turns into throughput while competing for it. The backend here is its own NGINX with two
 * workers, so it is not what caps the 2-worker rows.
 *
 * @module
 */

import type { ProcSet } from "./procs.ts";
import { median } from "./median.ts";
import { nginxProxy, startBackend, type Target, thisProxy } from "./targets.ts";
import { wrk } from "./wrk.ts";

/** One target of the section over every round. */
export interface ScalingRow {
  /** `lb` or `nginx`. */
  readonly proxy: string;
  /** Isolates (our `workers`) or NGINX `worker_processes`. */
  readonly workers: number;
  /** req/s of each round, in round order. */
  readonly rounds: readonly number[];
  readonly errors: number;
}

/** What the section measured. */
export interface ScalingResults {
  readonly threads: number;
  readonly connections: number;
  readonly seconds: number;
  readonly rounds: number;
  readonly rows: readonly ScalingRow[];
}

/** How to run the section. */
export interface ScalingSettings {
  readonly rounds: number;
  readonly seconds: number;
  /** Warm every target up first (JIT). */
  readonly warmup: boolean;
  readonly dir: string;
  readonly procs: ProcSet;
  /** Repository root (this proxy's `main.ts`). */
  readonly root: string;
  readonly progress: (message: string) => void;
}

/** wrk's threads and connections for this section. */
export const SCALING_LOAD = { threads: 2, connections: 100 } as const;

/** Measure the section; see the module documentation. */
export async function measureScaling(s: ScalingSettings): Promise<ScalingResults> {
  const backendPort = await startBackend(s.dir, s.procs, 0, 2, "scaling_backend");
  const env = { dir: s.dir, procs: s.procs, backendPort, root: s.root };
  const targets: [ScalingRow["proxy"], number, Target][] = [
    ["lb", 1, await thisProxy(env, "round_robin", "lb_workers_1", { yaml: "workers: 1" })],
    ["lb", 2, await thisProxy(env, "round_robin", "lb_workers_2", { yaml: "workers: 2" })],
    ["nginx", 1, await nginxProxy(env, 1, "nginx workers 1")],
    ["nginx", 2, await nginxProxy(env, 2, "nginx workers 2")],
  ];
  // The public port accepts once the first isolate listens; the others start after it.
  for (const [proxy, workers, t] of targets) if (proxy === "lb") await listening(t, workers);
  const { threads, connections } = SCALING_LOAD;
  if (s.warmup) { for (const [, , t] of targets) await wrk(t.url, connections, 2, undefined, threads); }
  const rounds = targets.map(() => [] as number[]);
  const errors = targets.map(() => 0);
  for (let round = 0; round < s.rounds; round++) {
    for (const [i, [proxy, workers, t]] of targets.entries()) {
      const r = await wrk(t.url, connections, s.seconds, undefined, threads);
      s.progress(
        `workers round ${round + 1} ${proxy} ${workers}: ${r.rps.toFixed(0)} req/s, ${r.errors} errors`,
      );
      rounds[i].push(r.rps);
      errors[i] += r.errors;
    }
  }
  return {
    threads,
    connections,
    seconds: s.seconds,
    rounds: s.rounds,
    rows: targets.map(([proxy, workers], i) => ({ proxy, workers, rounds: rounds[i], errors: errors[i] })),
  };
}

/** Wait until `/api/workers` of this proxy lists `workers` isolates (at most 30 s). */
async function listening(t: Target, workers: number): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const list = await fetch(`${t.admin}/api/workers`).then((r) => r.json(), () => []);
    if (Array.isArray(list) && list.length === workers) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${t.name}: ${workers} workers not listening within 30s`);
}

/** A proxy's scaling factor: median req/s with 2 workers over median with 1. */
export function scalingFactor(r: ScalingResults, proxy: string): number {
  const rps = (workers: number) => {
    const row = r.rows.find((x) => x.proxy === proxy && x.workers === workers);
    return row ? median(row.rounds) : NaN;
  };
  return rps(2) / rps(1);
}

/** Our scaling factor over NGINX's: the section's goal (>= 0.9). */
export function scalingGoal(
  r: ScalingResults,
): { goal: string; measured: number; limit: string; met: boolean } {
  const measured = scalingFactor(r, "lb") / scalingFactor(r, "nginx");
  return { goal: "scaling 1 -> 2 workers ÷ nginx's", measured, limit: ">= 0.9", met: measured >= 0.9 };
}

const f = (x: number, digits = 2) => Number.isFinite(x) ? x.toFixed(digits) : "n/a";
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

/** The section's Markdown lines. */
export function renderScaling(r: ScalingResults): string[] {
  return [
    "## Workers",
    "",
    `\`wrk -t${r.threads} -c${r.connections} -d${r.seconds}s\` against each target, ${r.rounds} rounds ` +
    `interleaved, median per target; backend: NGINX with 2 workers. This proxy with \`workers: 1\` and ` +
    "`workers: 2` (SO_REUSEPORT, one isolate each), NGINX with `worker_processes 1` and `2`. The machine's " +
    "cores also run wrk and the backend, so no proxy can double; the scaling factor is 2 workers ÷ 1 worker " +
    "of the same proxy.",
    "",
    row(["proxy", "workers", "req/s", "scaling ÷ 1 worker", "req/s per round", "errors"]),
    row(["---", "---:", "---:", "---:", "---", "---:"]),
    ...r.rows.map((x) => {
      const one = r.rows.find((y) => y.proxy === x.proxy && y.workers === 1);
      return row([
        x.proxy,
        x.workers,
        f(median(x.rounds), 0),
        f(one ? median(x.rounds) / median(one.rounds) : NaN),
        x.rounds.map((v) => f(v, 0)).join(" "),
        x.errors,
      ]);
    }),
    "",
    `This proxy's scaling factor ${f(scalingFactor(r, "lb"))} against NGINX's ${
      f(scalingFactor(r, "nginx"))
    }: ` +
    `${f(scalingGoal(r).measured)} of NGINX's (goal >= 0.9).`,
    "",
  ];
}
