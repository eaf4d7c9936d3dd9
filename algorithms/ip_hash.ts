/**
 * IP hash: consistent hashing of the request's affinity key (`ctx.hashKey`: client IP, a header
 * or a cookie) through a Maglev lookup table, so a client keeps its backend while the pool is
 * stable, and a pool change moves only the keys it must.
 *
 * The Go project took FNV-1a of the raw `X-Forwarded-For` modulo the healthy count: any health
 * change remapped almost every client. With Maglev, when one of n backends leaves about 1/n of
 * the keys move (its own), plus at most a couple of percent; when it returns they move back,
 * because the table is a pure function of the set of names. Two replicas with the same backend
 * names agree on every key.
 *
 * Tables are built once per candidate set (a few milliseconds) and cached, the last few sets
 * kept so a flapping backend does not rebuild on every transition; a pick is one hash of the
 * key and one array read.
 *
 * Weight is ignored: a weighted table would have to be rebuilt (and keys remapped) at every
 * step of a slow-start ramp. Use a weighted strategy when shares matter more than affinity.
 *
 * @module
 */

import { hash32 } from "./_hash.ts";
import { buildMaglevTable } from "./_maglev_table.ts";
import type { Candidate, Strategy, StrategyOptions } from "./types.ts";

/** Seed for hashing request keys, independent of the table's name hashes. */
const KEY_SEED = 0x1b56c4e9;
/** Candidate sets whose tables stay cached (flapping between two or three sets is common). */
const CACHED_TABLES = 4;

/**
 * Create a Maglev consistent-hashing strategy.
 *
 * @example Usage
 * ```ts
 * import { createIpHash } from "./ip_hash.ts";
 * const ipHash = createIpHash({ random: Math.random, now: performance.now });
 * const list = [{ id: 0, name: "a", weight: 1, inFlight: 0 }, { id: 1, name: "b", weight: 1, inFlight: 0 }];
 * ipHash.pick(list, { hashKey: "203.0.113.7" }) === ipHash.pick(list, { hashKey: "203.0.113.7" }); // true
 * ```
 */
export function createIpHash(_options: StrategyOptions): Strategy {
  const tables = new Map<string, Int32Array>();
  let lastList: readonly Candidate[] | undefined;
  let lastTable: Int32Array = new Int32Array(0);
  let lastLength = 0;

  function tableFor(candidates: readonly Candidate[]): Int32Array {
    if (candidates === lastList && candidates.length === lastLength) return lastTable;
    const names = candidates.map((c) => c.name);
    // Indices in the table refer to positions in `names`, so the key keeps the order.
    const key = names.join("\u0000");
    let table = tables.get(key);
    if (table === undefined) {
      table = buildMaglevTable(names);
      if (tables.size >= CACHED_TABLES) tables.delete(tables.keys().next().value!);
    } else {
      tables.delete(key); // re-insert below: most recently used last
    }
    tables.set(key, table);
    lastList = candidates;
    lastTable = table;
    lastLength = candidates.length;
    return table;
  }

  return {
    name: "ip_hash",
    pick(candidates, ctx) {
      const n = candidates.length;
      if (n === 0) return undefined;
      if (n === 1) return candidates[0];
      const table = tableFor(candidates);
      return candidates[table[hash32(ctx.hashKey, KEY_SEED) % table.length]];
    },
  };
}
