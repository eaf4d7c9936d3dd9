/**
 * Strategy pick cost from `deno bench --json` on the algorithms bench file, when the tree has one.
 *
 * @module
 */

import { run } from "./procs.ts";

/** The bench file measured, relative to the repository root. */
export const PICK_BENCH = "tools/bench/algorithms_bench.ts";

/** One benchmark row. */
export interface PickCost {
  readonly group: string;
  readonly name: string;
  readonly avgNs: number;
  readonly p99Ns: number;
}

interface BenchJson {
  benches: { group: string | null; name: string; results: { ok?: { avg: number; p99: number } }[] }[];
}

/** Rows of a `deno bench --json` document (failed benches left out). */
export function parseBenchJson(json: string): PickCost[] {
  const doc = JSON.parse(json) as BenchJson;
  return doc.benches.flatMap((b) => {
    const ok = b.results[0]?.ok;
    return ok ? [{ group: b.group ?? "", name: b.name, avgNs: ok.avg, p99Ns: ok.p99 }] : [];
  });
}

/** Run the pick-cost bench; undefined when the file is not in this tree. */
export async function pickCosts(root: string): Promise<PickCost[] | undefined> {
  try {
    await Deno.stat(`${root}/${PICK_BENCH}`);
  } catch {
    return undefined;
  }
  const out = await run("deno", ["bench", "--json", "--allow-read", "--allow-env", PICK_BENCH], root);
  return parseBenchJson(out);
}
