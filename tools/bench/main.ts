/**
 * Proxy overhead benchmark: this proxy against direct access, two yardsticks (a bare byte forwarder,
 * the runtime's floor, and the HTTP floor, the least an HTTP/1.1 proxy does on it), NGINX, HAProxy,
 * Caddy and node's http-proxy, all in front of one NGINX backend on loopback, measured interleaved
 * in rounds so background load on the machine hits every target alike; then the edge protocols
 * (tools/bench/edge.ts): HTTPS over HTTP/1.1 and h2 against NGINX and Caddy, WebSocket echo throughput and idle
 * tunnels' memory against NGINX. Writes `reports/local/bench.md`, which git ignores;
 * `--out reports/bench.md` regenerates the committed report.
 *
 * ```
 * deno task bench:proxy [--quick] [--rounds N] [--seconds N] [--out PATH] [--only a,b] [--baseline DIR]
 * ```
 *
 * `--only` names targets of the throughput table, and `workers` for the workers section (this
 * proxy and NGINX with 1 and 2 workers, tools/bench/scaling.ts); without it everything runs.
 *
 * `--quick` runs every section in well under a minute, to keep the harness working in CI; its
 * numbers are not measurements.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { benchEdge, type EdgeSettings } from "./edge.ts";
import { machineInfo, sampleLoad } from "./machine.ts";
import { connectionsRss, openConnectionsRss, streamingRss } from "./memory.ts";
import { openLoop } from "./open_loop.ts";
import { pickCosts } from "./pick_cost.ts";
import { ProcSet, run } from "./procs.ts";
import { measureScaling } from "./scaling.ts";
import { type BenchResults, type LatencyRow, median, renderReport, type ThroughputRow } from "./report.ts";
import {
  ACCESS_LOG_TARGET,
  caddy,
  direct,
  forwarder,
  haproxy,
  httpFloor,
  nginxProxy,
  nodeHttpProxy,
  startBackend,
  strategyAvailable,
  type Target,
  type TargetEnv,
  thisProxy,
  withAccessLog,
} from "./targets.ts";
import { wrk } from "./wrk.ts";

/** Run settings. */
export interface BenchSettings {
  readonly quick: boolean;
  readonly rounds: number;
  readonly seconds: number;
  readonly connections: number;
  readonly rate: number;
  readonly latencySeconds: number;
  readonly memoryConnections: number;
  readonly streamBytes: number;
  readonly out: string;
  /**
   * Target names to measure (all when empty); `direct`, the two yardsticks and the reference always
   * run.
   */
  readonly only: readonly string[];
  /** Another checkout of this project, measured as `baseline round_robin` (before/after). */
  readonly baseline?: string;
  /** The HTTPS and WebSocket sections. */
  readonly edge: EdgeSettings;
}

/**
 * Settings from the command line.
 *
 * @param args The command-line arguments.
 * @param root The checkout to measure; the report goes to `<root>/reports/local/bench.md` unless
 *   `--out` names another file.
 */
export function settingsFrom(args: string[], root: string): BenchSettings {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      seconds: { type: "string" },
      out: { type: "string" },
      only: { type: "string" },
      baseline: { type: "string" },
    },
    strict: true,
  });
  const quick = values.quick;
  const rounds = Number(values.rounds ?? (quick ? 1 : 3));
  const only = values.only ? values.only.split(",") : [];
  return {
    quick,
    rounds,
    seconds: Number(values.seconds ?? (quick ? 1 : 10)),
    connections: 50,
    rate: 2000,
    latencySeconds: quick ? 1 : 5,
    memoryConnections: 1000,
    streamBytes: quick ? 64 * 1024 ** 2 : 1024 ** 3,
    // Not reports/bench.md: a run must not change the committed report unless asked to.
    out: values.out ?? `${root}/reports/local/bench.md`,
    only,
    baseline: values.baseline,
    edge: {
      quick,
      rounds,
      // A few seconds per run: the three targets, two protocols and rounds stay within minutes.
      seconds: quick ? 1 : 5,
      h1Connections: 50,
      h2Clients: 10,
      h2Streams: 10,
      wsSockets: 50,
      wsBytes: 64,
      idleTunnels: quick ? 200 : 1000,
      only,
    },
  };
}

const REFERENCE = "lb round_robin";

const started = performance.now();
/** Progress on stderr, so a long run shows where it is. */
function progress(message: string): void {
  console.error(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

/** Every server to compare, in the order each round visits them. */
async function startTargets(env: TargetEnv, s: BenchSettings, notes: string[]): Promise<Target[]> {
  const want = (name: string) => s.only.length === 0 || s.only.includes(name);
  const has = async (cmd: string) => await run("which", [cmd]).then(() => true, () => false);
  // The forwarder always runs: every throughput goal is a ratio to it, measured in the same rounds.
  // The HTTP floor right after it, so the two yardsticks' gap is measured in the same rounds too.
  const targets = [
    direct(env),
    await forwarder(env),
    await httpFloor(env),
    await thisProxy(env, "round_robin"),
  ];
  if (s.baseline) {
    const before = await thisProxy({ ...env, root: s.baseline }, "round_robin", "baseline");
    targets.push({ ...before, name: "baseline round_robin" });
    notes.push(`baseline round_robin: the same proxy from ${s.baseline}, for a before/after ratio.`);
  }
  if (want(ACCESS_LOG_TARGET)) targets.push(await withAccessLog(env));
  if (want("lb peak_ewma")) {
    if (await strategyAvailable(env, "peak_ewma")) targets.push(await thisProxy(env, "peak_ewma"));
    else {notes.push(
        "peak_ewma: not accepted by `main.ts --check` in this tree, so only round_robin was measured.",
      );}
  }
  const others: [string, string, (env: TargetEnv) => Promise<Target>][] = [
    ["nginx", "nginx", nginxProxy],
    ["haproxy", "haproxy", haproxy],
    ["caddy", "caddy", caddy],
    ["node http-proxy", "node", nodeHttpProxy],
  ];
  for (const [name, cmd, start] of others) {
    if (!want(name)) continue;
    if (await has(cmd)) targets.push(await start(env));
    else notes.push(`${name}: \`${cmd}\` not installed, not measured.`);
  }
  return targets;
}

/** Run the benchmark and write the report; returns the results. */
export async function bench(s: BenchSettings, root: string): Promise<BenchResults> {
  const dir = await Deno.makeTempDir({ prefix: "lb-bench-" });
  // NGINX workers drop root privileges and must still read the files served from here.
  await Deno.chmod(dir, 0o755);
  const procs = new ProcSet(dir);
  const notes: string[] = [];
  const machine = await machineInfo();
  const load = sampleLoad();
  const runStarted = performance.now();
  try {
    const backendPort = await startBackend(dir, procs, s.streamBytes);
    const env: TargetEnv = { dir, procs, backendPort, root };
    const targets = await startTargets(env, s, notes);
    progress(`started ${targets.map((t) => t.name).join(", ")}`);

    // JIT warmup for the Deno and node targets; everyone gets the same.
    if (!s.quick) { for (const t of targets) await wrk(t.url, s.connections, 2); }

    const tp = new Map<string, { rounds: number[]; p50: number[]; p99: number[]; errors: number }>();
    for (let round = 0; round < s.rounds; round++) {
      for (const t of targets) {
        const r = await wrk(t.url, s.connections, s.seconds);
        progress(`round ${round + 1} ${t.name}: ${r.rps.toFixed(0)} req/s, ${r.errors} errors`);
        const e = tp.get(t.name) ?? { rounds: [], p50: [], p99: [], errors: 0 };
        e.rounds.push(r.rps), e.p50.push(r.p50Ms), e.p99.push(r.p99Ms), e.errors += r.errors;
        tp.set(t.name, e);
      }
    }
    const throughput: ThroughputRow[] = targets.map((t) => {
      const e = tp.get(t.name)!;
      return { target: t.name, rounds: e.rounds, p50Ms: e.p50, p99Ms: e.p99, errors: e.errors };
    });
    const logged = tp.get(ACCESS_LOG_TARGET);
    if (logged) {
      const ratio = median(logged.rounds) / median(tp.get(REFERENCE)!.rounds);
      notes.push(
        `Access log on (JSON lines to a file) ÷ off, throughput: ${ratio.toFixed(2)}x ` +
          `(goal: at least 0.90x, ${ratio >= 0.9 ? "met" : "not met"}).`,
      );
    }

    const lat = new Map<string, { p50: number[]; p99: number[]; errors: number }>();
    for (let round = 0; round < s.rounds; round++) {
      for (const t of targets) {
        const r = await openLoop(t.url, {
          rate: s.rate,
          seconds: s.latencySeconds,
          warmupSeconds: s.quick ? 0.5 : 1,
        });
        progress(
          `latency round ${round + 1} ${t.name}: p50 ${r.p50Ms.toFixed(3)} ms, p99 ${
            r.p99Ms.toFixed(3)
          } ms, ` +
            `${r.errors} errors ${r.lastError}`,
        );
        const e = lat.get(t.name) ?? { p50: [], p99: [], errors: 0 };
        e.p50.push(r.p50Ms), e.p99.push(r.p99Ms), e.errors += r.errors;
        lat.set(t.name, e);
      }
    }
    const latency: LatencyRow[] = targets.map((t) => {
      const e = lat.get(t.name)!;
      return { target: t.name, p50Ms: median(e.p50), p99Ms: median(e.p99), errors: e.errors };
    });

    const scaling = s.only.length === 0 || s.only.includes("workers")
      ? await measureScaling({
        rounds: s.rounds,
        seconds: s.seconds,
        warmup: !s.quick,
        dir,
        procs,
        root,
        progress,
      })
      : undefined;

    // Memory on fresh processes, so earlier runs do not inflate the numbers.
    const forOpen = await thisProxy(env, "round_robin", "mem_open");
    const open = await openConnectionsRss(
      forOpen.proc!.pid,
      forOpen.url,
      s.memoryConnections,
      s.rate,
      s.quick ? 1 : 5,
    );
    const forConns = await thisProxy(env, "round_robin", "mem_conns");
    const conns = await connectionsRss(
      forConns.proc!.pid,
      forConns.url,
      s.memoryConnections,
      s.quick ? 1 : 5,
    );
    const forStream = await thisProxy(env, "round_robin", "mem_stream");
    const stream = await streamingRss(forStream.proc!.pid, `${forStream.url}big`);
    if (stream.bytes !== s.streamBytes) {
      throw new Error(`streamed ${stream.bytes} bytes, expected ${s.streamBytes}`);
    }

    if (open.errors + conns.errors > 0) {
      notes.push(
        `Memory runs: ${open.errors} errors with open connections, ${conns.errors} with saturated connections.`,
      );
    }
    progress(
      `memory: open ${open.peakMiB.toFixed(1)} MiB, saturated ${conns.peakMiB.toFixed(1)} MiB, ` +
        `stream growth ${stream.growthMiB.toFixed(1)} MiB`,
    );
    const edgeStartSeconds = (performance.now() - runStarted) / 1000;
    const edge = await benchEdge(env, s.edge, progress);
    notes.push(...edge.notes);
    const picks = await pickCosts(root);
    if (s.quick) {
      notes.push("Quick mode: short runs for checking the harness; these numbers are not measurements.");
    }
    const results: BenchResults = {
      date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
      command: `deno task bench:proxy${s.quick ? " --quick" : ""}`,
      machine,
      load: load.stop(),
      edgeStartSeconds,
      rounds: s.rounds,
      seconds: s.seconds,
      connections: s.connections,
      reference: REFERENCE,
      throughput,
      rate: s.rate,
      latencySeconds: s.latencySeconds,
      latency,
      memory: {
        connections: s.memoryConnections,
        idleMiB: conns.idleMiB,
        openPeakMiB: open.peakMiB,
        peakMiB: conns.peakMiB,
        streamMiB: s.streamBytes / 1024 ** 2,
        growthMiB: stream.growthMiB,
        mibPerSecond: stream.mibPerSecond,
      },
      picks,
      scaling,
      edge,
      notes,
    };
    await Deno.mkdir(s.out.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(s.out, renderReport(results));
    return results;
  } finally {
    load.stop();
    await procs.stopAll();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** What `--help` prints, and a bad option's error after its one line. */
export const USAGE = `Usage: deno task bench:proxy [options]

  --quick         every section in well under a minute (checks the harness; not measurements)
  --rounds N      interleaved rounds per section (default 3; --quick 1)
  --seconds N     seconds per throughput run (default 10; --quick 1)
  --only a,b      targets to run besides direct, the two yardsticks and lb round_robin (nginx,
                  haproxy, caddy, "node http-proxy", "lb peak_ewma", "lb round_robin + access log"),
                  and "workers" for the workers section (this proxy and NGINX, 1 and 2 workers)
  --baseline DIR  also measure the proxy of another checkout (before/after in one run)
  --out PATH      where the report goes (default reports/local/bench.md; reports/bench.md
                  regenerates the committed one)
  --help          this text`;

if (import.meta.main) {
  const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let s: BenchSettings;
  try {
    s = settingsFrom(Deno.args, root);
  } catch (e) {
    console.error(`bench:proxy: ${(e as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  await bench(s, root);
  console.log(await Deno.readTextFile(s.out));
  console.log(`report: ${s.out}`);
}
