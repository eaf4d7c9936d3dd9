/**
 * Cost of one `pick()` for every registered strategy at 10, 100 and 1,000 backends, plus the
 * Maglev table build that ip_hash pays once per candidate set.
 *
 * Goal: <= 1 µs per pick at 100 backends (least_resources <= 2 µs). Backends have mixed weights
 * and in-flight counts, resource samples are fresh, peak EWMA has measured every backend and 16
 * backends (prequal's default pool size) carry a probe answer, so each strategy runs its usual path,
 * not a shortcut for an idle pool.
 *
 * Run: `deno task bench` (or `deno bench tools/bench/algorithms_bench.ts`).
 *
 * @module
 */

import { buildMaglevTable } from "../../algorithms/_maglev_table.ts";
import { STRATEGIES } from "../../algorithms/mod.ts";
import type { PickContext, ResourceSample } from "../../algorithms/mod.ts";
import { makeBackends } from "../../tests/_util/backends.ts";
import { mulberry32 } from "../../tests/_util/prng.ts";

const SIZES = [10, 100, 1000];

for (const n of SIZES) {
  for (const [name, factory] of Object.entries(STRATEGIES)) {
    const random = mulberry32(n);
    const list = makeBackends(Array.from({ length: n }, (_, i) => 1 + (i % 3)), "backend-");
    for (const b of list) b.inFlight = Math.floor(random() * 6);
    // Every backend has the field, as the shell's Backend objects do (one shape for the JIT).
    list.forEach((b, i) => {
      const probe = i < 16 ? { rif: Math.floor(random() * 8), latencyMs: 5 + random() * 20 } : undefined;
      Object.assign(b, { probe });
    });
    const stats = new Map<string, ResourceSample>();
    const start = performance.now();
    for (const b of list) stats.set(b.name, { cpu: random(), memory: random(), at: start });
    const strategy = factory({ random, now: () => performance.now(), stats });
    for (const b of list) strategy.observe?.(b, { latencyMs: 5 + random() * 20, ok: true });
    const keys = Array.from({ length: 1024 }, (_, i) => `198.51.${i >> 8}.${i & 255}`);
    const ctx: { hashKey: string } = { hashKey: keys[0] };
    let i = 0;
    strategy.pick(list, ctx as PickContext); // build per-set state (Maglev table) outside the timing
    Deno.bench({
      name: `${name} n=${n}`,
      group: `pick n=${n}`,
      baseline: name === "round_robin",
      fn() {
        ctx.hashKey = keys[i++ & 1023];
        strategy.pick(list, ctx as PickContext);
      },
    });
  }
}

for (const n of [3, ...SIZES]) {
  const names = Array.from({ length: n }, (_, i) => `backend-${i}`);
  Deno.bench({
    name: `maglev table build n=${n}`,
    group: "maglev build",
    n: 20,
    fn: () => void buildMaglevTable(names),
  });
}
