/**
 * The progress bar of `deno task compare` on stderr: runs done out of all, the current scenario
 * and strategy, and the measured load's live figures.
 *
 * @module
 */

import type { Progress } from "../load/mod.ts";
import { formatMs } from "./figures.ts";

/** Where a comparison is. */
export interface CompareStep {
  /** Runs finished. */
  readonly done: number;
  /** Runs in total. */
  readonly total: number;
  readonly scenario: string;
  readonly strategy: string;
  /** The measured load so far, once it started. */
  readonly load?: Progress;
}

/**
 * One progress line, e.g. `[######------------------]  6/24  one-slow  peak_ewma  1.5s  372/s  p99 107ms`.
 *
 * @example Usage
 * ```ts
 * import { progressLine } from "./progress.ts";
 * progressLine({ done: 1, total: 4, scenario: "uniform", strategy: "random" });
 * // "[######------------------]  1/4  uniform  random"
 * ```
 */
export function progressLine(step: CompareStep, width = 24): string {
  const filled = step.total ? Math.round((step.done / step.total) * width) : 0;
  const parts = [
    `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`,
    `${String(step.done).padStart(String(step.total).length)}/${step.total}`,
    step.scenario,
    step.strategy,
  ];
  if (step.load) {
    parts.push(
      `${(step.load.elapsedMs / 1_000).toFixed(1)}s`,
      `${step.load.rate.toFixed(0)}/s`,
      `p99 ${formatMs(step.load.p99Ms)}ms`,
    );
  }
  return parts.join("  ");
}

/**
 * A writer for progress lines: redrawn in place on a terminal, one line per finished run in a log.
 *
 * @param stream Where to write, normally `Deno.stderr`.
 */
export function progressWriter(stream: { writeSync(p: Uint8Array): number; isTerminal(): boolean }): {
  update(step: CompareStep): void;
  runDone(step: CompareStep): void;
  clear(): void;
} {
  const encoder = new TextEncoder();
  const tty = stream.isTerminal();
  const write = (text: string) => stream.writeSync(encoder.encode(text));
  return {
    update: (step) => tty && write(`\r\x1b[2K${progressLine(step)}`),
    runDone: (step) => write(tty ? `\r\x1b[2K${progressLine(step)}` : `${progressLine(step)}\n`),
    clear: () => tty && write("\r\x1b[2K"),
  };
}
