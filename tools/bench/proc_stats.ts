/**
 * CPU time and RSS of a server and its child processes (NGINX's worker is a child of its master),
 * read from `/proc`. CPU per request is a measure a busy machine disturbs much less than the
 * request rate: another process taking a core slows every target's rate, not its CPU per request.
 *
 * @module
 */

/** Clock ticks per second of `/proc/PID/stat` times (`getconf CLK_TCK`; 100 on Linux). */
const CLK_TCK = 100;

/** `pid` and every descendant, read from `/proc/PID/task/TID/children`. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = [...Deno.readDirSync(`/proc/${out[i]}/task`)].map((t) => t.name);
    } catch { /* exited */ }
    for (const tid of tasks) {
      try {
        const text = Deno.readTextFileSync(`/proc/${out[i]}/task/${tid}/children`).trim();
        if (text) out.push(...text.split(/\s+/).map(Number));
      } catch { /* exited */ }
    }
  }
  return out;
}

/**
 * User plus system CPU time of `pid` and its descendants, in milliseconds.
 *
 * @param pid The server's process (NGINX's master, a Deno or Caddy process).
 * @returns milliseconds of CPU used so far by the live processes of the tree
 * @example CPU of this process
 * ```ts
 * import { treeCpuMs } from "./proc_stats.ts";
 * treeCpuMs(Deno.pid) >= 0; // true
 * ```
 */
export function treeCpuMs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      // Fields after the ") " closing the command name: state is 3rd, utime 14th, stime 15th.
      const f = Deno.readTextFileSync(`/proc/${p}/stat`).split(") ")[1].split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* exited */ }
  }
  return (ticks * 1000) / CLK_TCK;
}

/**
 * Resident set size of `pid` and its descendants (sum of `VmRSS`), in KiB.
 *
 * @param pid The server's process.
 * @returns KiB resident now
 * @throws {Error} when `pid` itself has no status (it exited)
 */
export function treeRssKiB(pid: number): number {
  let kib = 0;
  for (const p of processTree(pid)) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`/proc/${p}/status`);
    } catch (e) {
      if (p === pid) throw new Error(`Cannot read the RSS of process ${pid}: ${(e as Error).message}`);
      continue;
    }
    kib += Number(/^VmRSS:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
  }
  return kib;
}
