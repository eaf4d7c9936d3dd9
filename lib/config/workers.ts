/**
 * `workers`: how many isolates accept on the public listeners, as NGINX's `worker_processes` and
 * Envoy's `--concurrency` do. `1` (the default) is one isolate doing everything; a number or
 * `auto` (the machine's cores) starts that many, each accepting on its own `SO_REUSEPORT` socket
 * of the same address, coordinated by the first (lib/cluster/).
 *
 * @module
 */

import type { Node } from "yaml";
import type { Reader } from "./reader.ts";

/** `workers` as written: a count, or `auto` for one per core. */
export type WorkersSetting = number | "auto";

/** The most workers accepted: far beyond any core count a proxy runs on, and a typo guard. */
export const MAX_WORKERS = 1024;

/** Read `workers`: a positive integer or `auto`. */
export function readWorkers(r: Reader, node: Node | undefined): WorkersSetting | undefined {
  if (node === undefined) return 1;
  const s = r.scalar(node, "workers");
  if (!s) return undefined;
  if (s.value === "auto") return "auto";
  const v = typeof s.value === "string" && /^\d+$/.test(s.value) ? Number(s.value) : s.value;
  if (typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= MAX_WORKERS) return v;
  r.fail(
    s.node,
    "workers",
    `must be a positive integer (1..${MAX_WORKERS}) or auto, got ${JSON.stringify(s.value)}`,
  );
  return undefined;
}

/**
 * The number of isolates `setting` means on a machine with `cores` logical CPUs (`auto`: one per
 * core, capped at {@linkcode MAX_WORKERS}).
 *
 * @example
 * ```ts
 * import { workerCount } from "./workers.ts";
 * workerCount("auto", 8); // 8
 * workerCount(2, 8); // 2
 * ```
 */
export function workerCount(setting: WorkersSetting, cores: number): number {
  if (setting !== "auto") return setting;
  return Math.max(1, Math.min(MAX_WORKERS, Math.floor(cores) || 1));
}
