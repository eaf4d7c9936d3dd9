/**
 * The benchmark report: results in, Markdown out (`reports/bench.md`), and a parser that reads
 * the tables back so a test can check that every section holds numbers.
 *
 * @module
 */

import type { EdgeResults } from "./edge.ts";
import type { LoadSample, MachineInfo } from "./machine.ts";
import { median } from "./median.ts";
import type { PickCost } from "./pick_cost.ts";
import { edgeGoals, renderEdge } from "./report_edge.ts";
import { renderScaling, scalingGoal, type ScalingResults } from "./scaling.ts";
import { FORWARDER_TARGET, HTTP_FLOOR_TARGET } from "./targets.ts";

/** Throughput of one target over every round. */
export interface ThroughputRow {
  readonly target: string;
  /** req/s of each round, in round order. */
  readonly rounds: readonly number[];
  readonly p50Ms: readonly number[];
  readonly p99Ms: readonly number[];
  readonly errors: number;
}

/** Fixed-rate latency of one target (medians over rounds). */
export interface LatencyRow {
  readonly target: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/** Everything one run measured. */
export interface BenchResults {
  readonly date: string;
  readonly command: string;
  readonly machine: MachineInfo;
  /** Load averages sampled over the run (the first at the start, the last at the end). */
  readonly load: readonly LoadSample[];
  /** Seconds into the run the edge sections started at, for the load table. */
  readonly edgeStartSeconds?: number;
  readonly rounds: number;
  readonly seconds: number;
  readonly connections: number;
  /** The target every ratio is taken against (this proxy with round robin). */
  readonly reference: string;
  readonly throughput: readonly ThroughputRow[];
  readonly rate: number;
  readonly latencySeconds: number;
  readonly latency: readonly LatencyRow[];
  readonly memory: {
    readonly connections: number;
    readonly idleMiB: number;
    /** Peak with `connections` open keep-alive connections at `rate` req/s. */
    readonly openPeakMiB: number;
    /** Peak with `connections` connections saturated by wrk (as many requests in flight). */
    readonly peakMiB: number;
    readonly streamMiB: number;
    readonly growthMiB: number;
    readonly mibPerSecond: number;
  };
  readonly picks: readonly PickCost[] | undefined;
  /** The workers section (1 and 2 workers of this proxy and NGINX), when it ran. */
  readonly scaling?: ScalingResults;
  /** HTTPS, WebSocket echo and idle tunnels. */
  readonly edge?: EdgeResults;
  readonly notes: readonly string[];
}

export { median };

const f = (x: number, digits = 2) => Number.isFinite(x) ? x.toFixed(digits) : "n/a";
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

/** Goal rows: what the project promises about its own overhead, checked against this run. */
export function goals(r: BenchResults): { goal: string; measured: number; limit: string; met: boolean }[] {
  const rps = (name: string) => {
    const t = r.throughput.find((x) => x.target === name);
    return t ? median(t.rounds) : NaN;
  };
  const ref = rps(r.reference);
  const lat = (name: string) => r.latency.find((x) => x.target === name);
  const direct = lat("direct");
  const mine = lat(r.reference);
  const addedP50 = mine && direct ? mine.p50Ms - direct.p50Ms : NaN;
  const addedP99 = mine && direct ? mine.p99Ms - direct.p99Ms : NaN;
  const edge = r.edge ? edgeGoals(r.edge) : [];
  const floor = rps(FORWARDER_TARGET);
  return [
    {
      goal: "throughput ÷ byte forwarder (yardstick, same runtime)",
      measured: ref / floor,
      limit: ">= 0.75",
      met: ref / floor >= 0.75,
    },
    {
      goal: "throughput ÷ nginx (1 worker)",
      measured: ref / rps("nginx"),
      limit: ">= 1.0",
      met: ref / rps("nginx") >= 1,
    },
    {
      goal: "throughput ÷ node http-proxy",
      measured: ref / rps("node http-proxy"),
      limit: ">= 3.0",
      met: ref / rps("node http-proxy") >= 3,
    },
    { goal: `added p50 at ${r.rate} req/s (ms)`, measured: addedP50, limit: "<= 0.3", met: addedP50 <= 0.3 },
    { goal: `added p99 at ${r.rate} req/s (ms)`, measured: addedP99, limit: "<= 1.0", met: addedP99 <= 1 },
    {
      goal: `peak RSS, ${r.memory.connections} keep-alive connections (MiB)`,
      measured: r.memory.openPeakMiB,
      limit: "<= 150",
      met: r.memory.openPeakMiB <= 150,
    },
    {
      goal: `RSS growth streaming ${r.memory.streamMiB} MiB (MiB)`,
      measured: r.memory.growthMiB,
      limit: "<= 64",
      met: r.memory.growthMiB <= 64,
    },
    ...edge,
    ...(r.scaling ? [scalingGoal(r.scaling)] : []),
  ];
}

/** The machine section: what ran the benchmark and how busy it was meanwhile. */
function machineSection(r: BenchResults): string[] {
  const m = r.machine;
  const at = (when: string, s: LoadSample) =>
    row([when, `${f(s.atSeconds, 0)} s`, ...s.load.map((x) => f(x))]);
  const first = r.load[0];
  const last = r.load[r.load.length - 1];
  const edge = r.edgeStartSeconds === undefined
    ? undefined
    : r.load.find((s) => s.atSeconds >= r.edgeStartSeconds!);
  const peak = r.load.reduce((a, b) => (b.load[0] > a.load[0] ? b : a), first);
  return [
    "## Machine",
    "",
    `${m.cpu}, ${m.cores} cores, Deno ${m.deno}. Other work on the machine shows up as noise; rounds are ` +
    `interleaved so it affects every target alike. Load average (1, 5 and 15 minutes) from /proc/loadavg, ` +
    `sampled every 5 s over the ${f(last.atSeconds, 0)} s run:`,
    "",
    row(["when", "time into the run", "1 min", "5 min", "15 min"]),
    row(["---", "---:", "---:", "---:", "---:"]),
    at("start", first),
    ...(edge ? [at("edge sections start", edge)] : []),
    at("highest 1-minute value", peak),
    at("end", last),
    "",
  ];
}

/** Render the Markdown report. */
export function renderReport(r: BenchResults): string {
  const ref = r.throughput.find((t) => t.target === r.reference);
  const refRps = ref ? median(ref.rounds) : NaN;
  const floor = r.throughput.find((t) => t.target === FORWARDER_TARGET);
  const floorRps = floor ? median(floor.rounds) : NaN;
  const direct = r.latency.find((x) => x.target === "direct");
  const out = [
    "# Proxy benchmark",
    "",
    `Measured ${r.date} with \`${r.command}\`.`,
    "",
    ...machineSection(r),
    "## Throughput",
    "",
    `\`wrk -t1 -c${r.connections} -d${r.seconds}s --latency\` against each target, ${r.rounds} rounds interleaved ` +
    `(every target once per round, same order), median per target. Tiny response (\`hello\\n\`, 6 bytes) from one ` +
    `NGINX backend. The ratio column is ${r.reference} ÷ target: above 1, this proxy is faster. ` +
    `\`${FORWARDER_TARGET}\` is a yardstick, not a product: tools/bench/forwarder.ts copies bytes between ` +
    `each client connection and one backend connection on the same runtime (no HTTP parsing, no balancing, ` +
    `no metrics), so target ÷ forwarder is how near a target comes to this runtime's floor. ` +
    `\`${HTTP_FLOOR_TARGET}\` is the second yardstick: tools/bench/http_floor.ts does the least an HTTP/1.1 ` +
    `proxy does on the same runtime (each request and response head read into a string, its fields split ` +
    `and rewritten, the body framed by content-length; one backend connection per client connection, no ` +
    `balancing, no timeouts, no metrics), so the gap between the two yardsticks is what minimal HTTP work ` +
    `costs on this runtime, and the gap between the HTTP floor and ${r.reference} is what this proxy's own ` +
    `features cost.`,
    "",
    row([
      "target",
      "req/s",
      "p50 ms",
      "p99 ms",
      `${r.reference} ÷ target`,
      "target ÷ forwarder",
      "req/s per round",
      "errors",
    ]),
    row(["---", "---:", "---:", "---:", "---:", "---:", "---", "---:"]),
    ...r.throughput.map((t) =>
      row([
        t.target,
        f(median(t.rounds), 0),
        f(median(t.p50Ms)),
        f(median(t.p99Ms)),
        f(refRps / median(t.rounds)),
        f(median(t.rounds) / floorRps),
        t.rounds.map((x) => f(x, 0)).join(" "),
        t.errors,
      ])
    ),
    "",
    `## Added latency at ${r.rate} req/s`,
    "",
    `Open-loop client (fixed schedule, 32 keep-alive connections, ${r.latencySeconds}s per target per round after ` +
    `1s warmup; medians over rounds). Added = target minus direct.`,
    "",
    row(["target", "p50 ms", "p99 ms", "added p50 ms", "added p99 ms", "errors"]),
    row(["---", "---:", "---:", "---:", "---:", "---:"]),
    ...r.latency.map((l) =>
      row([
        l.target,
        f(l.p50Ms, 3),
        f(l.p99Ms, 3),
        f(direct ? l.p50Ms - direct.p50Ms : NaN, 3),
        f(direct ? l.p99Ms - direct.p99Ms : NaN, 3),
        l.errors,
      ])
    ),
    "",
    ...(r.scaling ? renderScaling(r.scaling) : []),
    "## Memory",
    "",
    `${r.reference}, a fresh process per measure; RSS from /proc/PID/status (VmHWM and VmRSS sampled every ` +
    `50-100 ms). Saturated means \`wrk -c${r.memory.connections}\`: that many requests in flight all the time.`,
    "",
    row(["measure", "value"]),
    row(["---", "---:"]),
    row(["RSS idle after start (MiB)", f(r.memory.idleMiB, 1)]),
    row([
      `peak RSS, ${r.memory.connections} keep-alive connections at ${r.rate} req/s (MiB)`,
      f(r.memory.openPeakMiB, 1),
    ]),
    row([`peak RSS, ${r.memory.connections} connections saturated by wrk (MiB)`, f(r.memory.peakMiB, 1)]),
    row([`RSS growth streaming ${r.memory.streamMiB} MiB (MiB)`, f(r.memory.growthMiB, 1)]),
    row(["streaming rate (MiB/s)", f(r.memory.mibPerSecond, 0)]),
    "",
    ...(r.edge ? renderEdge(r.edge) : []),
    "## Pick cost",
    "",
    ...(r.picks
      ? [
        "`deno bench` on tools/bench/algorithms_bench.ts (ns per call).",
        "",
        row(["group", "bench", "avg ns", "p99 ns"]),
        row(["---", "---", "---:", "---:"]),
        ...r.picks.map((p) => row([p.group || "-", p.name, f(p.avgNs, 1), f(p.p99Ns, 1)])),
      ]
      : ["Not measured: tools/bench/algorithms_bench.ts is not in this tree."]),
    "",
    "## Goals",
    "",
    row(["goal", "measured", "target", "met"]),
    row(["---", "---:", "---", "---"]),
    ...goals(r).map((g) => row([g.goal, f(g.measured), g.limit, g.met ? "yes" : "no"])),
    "",
    ...(r.notes.length ? ["## Notes", "", ...r.notes.map((n) => `- ${n}`), ""] : []),
  ];
  return out.join("\n");
}

/** The tables of a rendered report: section title -> data rows (header and rule left out). */
export function parseReport(md: string): Map<string, string[][]> {
  const sections = new Map<string, string[][]>();
  let current: string[][] | undefined;
  let header = 0;
  for (const line of md.split("\n")) {
    const h = /^## (.+)$/.exec(line);
    if (h) {
      sections.set(h[1], current = []);
      header = 0;
      continue;
    }
    if (!current || !line.startsWith("|")) continue;
    // The first two table lines are the header and the alignment rule.
    if (header++ < 2) continue;
    current.push(line.slice(1, -1).split("|").map((c) => c.trim()));
  }
  return sections;
}
