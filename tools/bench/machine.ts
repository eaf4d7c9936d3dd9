/**
 * The machine a benchmark ran on, and its load average over the run: sampled every few seconds,
 * because on a shared machine the load at the start says little about the load in the middle.
 *
 * @module
 */

/** The CPU, core count and Deno version. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly deno: string;
}

/** One `/proc/loadavg` reading: 1, 5 and 15 minute averages, and when, relative to the start. */
export interface LoadSample {
  readonly atSeconds: number;
  readonly load: readonly [number, number, number];
}

/** The CPU model, cores and Deno version of this machine. */
export async function machineInfo(): Promise<MachineInfo> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1] ?? "unknown CPU";
  return { cpu, cores: navigator.hardwareConcurrency, deno: Deno.version.deno };
}

/** The load averages now. */
export function loadAverage(): [number, number, number] {
  const [a, b, c] = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
  return [a, b, c];
}

/**
 * Sample the load average now and every `everyMs` until `stop()`.
 *
 * @param everyMs The sampling period. @default 5000
 * @returns the samples so far, and `stop()`, which takes a last sample and ends the timer (once;
 *   later calls only return the samples)
 * @example Sample while a run goes
 * ```ts
 * import { sampleLoad } from "./machine.ts";
 * const load = sampleLoad();
 * // ... the benchmark ...
 * load.stop().length >= 2; // true
 * ```
 */
export function sampleLoad(everyMs = 5000): { samples: LoadSample[]; stop(): LoadSample[] } {
  const started = performance.now();
  const samples: LoadSample[] = [];
  const take = () => samples.push({ atSeconds: (performance.now() - started) / 1000, load: loadAverage() });
  take();
  const timer = setInterval(take, everyMs);
  let stopped = false;
  return {
    samples,
    stop() {
      if (!stopped) clearInterval(timer), take(), stopped = true;
      return samples;
    },
  };
}
