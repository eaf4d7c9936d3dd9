/**
 * Facts about the machine a comparison ran on, for the report: latency figures mean little
 * without the cores, the runtime and how busy the machine was.
 *
 * @module
 */

/** What the report says about the machine. */
export interface MachineFacts {
  /** Logical CPUs. */
  readonly cores: number;
  readonly deno: string;
  readonly v8: string;
  /** `os arch`, e.g. `linux x86_64`. */
  readonly platform: string;
  /** 1, 5 and 15 minute load averages at the start, when permitted. */
  readonly loadAverage?: readonly number[];
}

/**
 * Collect the facts; anything the permissions do not allow is left out rather than failing.
 *
 * @example Usage
 * ```ts
 * import { machineFacts } from "./machine.ts";
 * machineFacts().deno; // "2.9.6"
 * ```
 */
export function machineFacts(): MachineFacts {
  let loadAverage: number[] | undefined;
  try {
    loadAverage = Deno.loadavg().map((v) => Math.round(v * 100) / 100);
  } catch { /* not permitted */ }
  return {
    cores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    platform: `${Deno.build.os} ${Deno.build.arch}`,
    loadAverage,
  };
}

/** One line for the report, e.g. `2 cores, Deno 2.9.6 (V8 ...), linux x86_64, load average 3.1 2.9 2.5`. */
export function formatMachine(facts: MachineFacts): string {
  const parts = [
    `${facts.cores} cores`,
    `Deno ${facts.deno} (V8 ${facts.v8})`,
    facts.platform,
  ];
  if (facts.loadAverage) parts.push(`load average at start ${facts.loadAverage.join(" ")} (1, 5, 15 min)`);
  return parts.join(", ");
}
