/**
 * Summarise a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time per function, and the
 * total (inclusive) time of the top functions, so hot spots are found from evidence, not guesses.
 *
 * ```
 * deno run --allow-read tools/cpuprofile_summary.ts PROFILE.cpuprofile [--top 30]
 * ```
 *
 * @module
 */

/** One node of a V8 CPU profile. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** The parts of a `.cpuprofile` used here. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self and total share of one function. */
export interface FunctionCost {
  readonly name: string;
  readonly self: number;
  readonly total: number;
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const file = f.url.split("/").slice(-2).join("/");
  return `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
}

/** Self and inclusive time share per function (0..1), sorted by self time. */
export function summarise(p: CpuProfile): FunctionCost[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let sum = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    sum += dt;
    const leaf = byId.get(p.samples[i])!;
    const name = label(leaf);
    self.set(name, (self.get(name) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const n = label(byId.get(id)!);
      if (seen.has(n)) continue;
      seen.add(n);
      total.set(n, (total.get(n) ?? 0) + dt);
    }
  }
  return [...self.keys()]
    .map((name) => ({ name, self: self.get(name)! / sum, total: (total.get(name) ?? 0) / sum }))
    .concat(
      [...total.keys()].filter((n) => !self.has(n)).map((name) => ({
        name,
        self: 0,
        total: total.get(name)! / sum,
      })),
    )
    .sort((a, b) => b.self - a.self);
}

if (import.meta.main) {
  const [path, flag, n] = Deno.args;
  const top = flag === "--top" ? Number(n) : 30;
  const costs = summarise(JSON.parse(await Deno.readTextFile(path)));
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  console.log("self    total   function");
  for (const c of costs.slice(0, top)) console.log(`${pct(c.self)} ${pct(c.total)}  ${c.name}`);
  console.log("\nby total (inclusive):");
  for (const c of [...costs].sort((a, b) => b.total - a.total).slice(0, top)) {
    console.log(`${pct(c.self)} ${pct(c.total)}  ${c.name}`);
  }
}
