/**
 * Where a request's CPU goes, per cost centre, for servers already running on loopback: the
 * kernel, the `deno` binary (V8's built-ins, its runtime and GC, the ops and Tokio), JIT-compiled
 * JavaScript, libc and the rest. Each target is loaded with `wrk -t1 -c50` while `perf record`
 * samples its process; its CPU time per request from `/proc/PID/stat` is split by the samples'
 * shares. Targets are measured in interleaved rounds, as `bench:proxy` measures throughput, so
 * this proxy's split is read against the byte forwarder's (the runtime's floor) from one run.
 *
 * ```
 * deno run -A tools/bench/cost_split.ts [--seconds 4] [--rounds 2] NAME=PORT...
 * ```
 *
 * Needs `perf` (Debian's `linux-perf`) allowed to sample the process (root, or
 * `kernel.perf_event_paranoid` <= 1). A diagnosis tool, not a benchmark: its rates are lower
 * than `bench:proxy`'s while perf samples.
 *
 * @module
 */

import { median } from "./median.ts";

/** The cost centres a sample is counted in, by the object it was taken in. */
export const CENTRES = ["kernel", "deno binary", "JIT JavaScript", "libc", "other"] as const;
/** One of {@linkcode CENTRES}. */
export type Centre = typeof CENTRES[number];

/** The centre of a `perf report --sort dso` row's object name. */
export function centreOf(dso: string): Centre {
  if (dso.startsWith("[kernel") || dso === "[vdso]") return "kernel";
  if (dso === "deno") return "deno binary";
  if (dso.startsWith("[JIT]") || /^perf-\d+\.map$/.test(dso)) return "JIT JavaScript";
  if (dso.startsWith("libc.so") || dso.startsWith("libm.so")) return "libc";
  return "other";
}

/** Shares (0..1) per centre from `perf report --sort dso --stdio` output. */
export function parseDsoReport(text: string): Record<Centre, number> {
  const shares = Object.fromEntries(CENTRES.map((c) => [c, 0])) as Record<Centre, number>;
  for (const line of text.split("\n")) {
    const m = /^\s*([\d.]+)%\s+(\S.*?)\s*$/.exec(line);
    if (m) shares[centreOf(m[2])] += Number(m[1]) / 100;
  }
  return shares;
}

/** The process listening on `port` on loopback, from `ss -ltnp`. */
async function pidOf(port: number): Promise<number> {
  const out = await new Deno.Command("ss", { args: ["-ltnpH", `sport = :${port}`] }).output();
  const m = /pid=(\d+)/.exec(new TextDecoder().decode(out.stdout));
  if (!m) throw new Error(`nothing listens on port ${port}`);
  return Number(m[1]);
}

/** user + system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the command name; ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** One round of one target: its rate, CPU per request and the samples' shares. */
export interface Sample {
  readonly rps: number;
  readonly cpuUsPerRequest: number;
  readonly shares: Record<Centre, number>;
}

async function measure(pid: number, port: number, seconds: number, dir: string): Promise<Sample> {
  const data = `${dir}/perf-${pid}.data`;
  const perf = new Deno.Command("perf", {
    args: ["record", "-F", "999", "-p", String(pid), "-o", data, "--", "sleep", String(seconds)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const before = cpuSeconds(pid);
  const wrk = await new Deno.Command("wrk", {
    args: ["-t1", "-c50", `-d${seconds}s`, `http://127.0.0.1:${port}/`],
  }).output();
  const cpu = cpuSeconds(pid) - before;
  if (!(await perf.status).success) throw new Error("perf record failed (is perf_event_paranoid <= 1?)");
  const text = new TextDecoder().decode(wrk.stdout);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  if (!(requests > 0)) throw new Error(`wrk served nothing on port ${port}: ${text}`);
  const report = await new Deno.Command("perf", {
    args: ["report", "-i", data, "--sort", "dso", "--stdio"],
    stderr: "null",
  }).output();
  return {
    rps: requests / seconds,
    cpuUsPerRequest: cpu * 1e6 / requests,
    shares: parseDsoReport(new TextDecoder().decode(report.stdout)),
  };
}

/** The markdown table of the medians per target. */
export function table(results: ReadonlyMap<string, readonly Sample[]>): string {
  const head = ["target", "req/s", "CPU µs/req", ...CENTRES.map((c) => `${c} µs`)];
  const rows = [...results].map(([name, samples]) => {
    const cpu = median(samples.map((s) => s.cpuUsPerRequest));
    const us = CENTRES.map((c) => (cpu * median(samples.map((s) => s.shares[c]))).toFixed(1));
    return [name, median(samples.map((s) => s.rps)).toFixed(0), cpu.toFixed(1), ...us];
  });
  return [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

if (import.meta.main) {
  const args = [...Deno.args];
  const option = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    if (i === -1) return fallback;
    const v = Number(args.splice(i, 2)[1]);
    if (!(v > 0)) throw new Error(`${name} needs a positive number`);
    return v;
  };
  const seconds = option("--seconds", 4);
  const rounds = option("--rounds", 2);
  const targets = args.map((a) => {
    const m = /^([^=]+)=(\d+)$/.exec(a);
    if (!m) {
      console.error(`usage: cost_split.ts [--seconds S] [--rounds N] NAME=PORT... (got ${a})`);
      Deno.exit(2);
    }
    return { name: m[1], port: Number(m[2]) };
  });
  const dir = await Deno.makeTempDir({ prefix: "cost_split_" });
  const results = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        const s = await measure(await pidOf(t.port), t.port, seconds, dir);
        results.get(t.name)!.push(s);
        console.error(
          `round ${r + 1} ${t.name}: ${s.rps.toFixed(0)} req/s, ${s.cpuUsPerRequest.toFixed(1)} µs`,
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.log(table(results));
}
