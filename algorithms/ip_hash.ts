/**
 * IP hash: consistent hashing of the request's affinity key (`ctx.hashKey`: client IP, a header
 * or a cookie) through a Maglev lookup table, so a client keeps its backend while the pool is
 * stable, a pool change moves only the keys it must, and proxy replicas agree on every key.
 *
 * The Go project took FNV-1a of the raw `X-Forwarded-For` modulo the healthy count: any health
 * change remapped almost every client. Here the table is built from the pool's whole membership
 * (the strategy {@linkcode Strategy.wantsMembership}), never from the healthy subset, and an
 * ineligible backend is skipped at lookup time: the key's slot is read first, and when its owner
 * may not take the request the key is re-hashed to another slot, and again, until a slot's owner
 * may. So:
 * - health changes never rebuild the table: a backend that fails its checks loses its own keys
 *   (each re-hash lands on a random slot, so they spread evenly over the others), and no other
 *   key moves; when it recovers they return;
 * - two replicas with the same membership and different health views for a moment (one has seen
 *   a backend fail, the other not yet) still agree on every key whose backend both see eligible;
 * - membership changes (a backend joins or leaves for good) rebuild the table, which by Maglev's
 *   minimal disruption moves about 1/n of the keys plus a couple of percent.
 *
 * The table is a pure function of the set of backend names (Eisenbud et al., "Maglev: A Fast and
 * Reliable Software Network Load Balancer", NSDI 2016, section 3.4; see `_maglev_table.ts`):
 * replicas that list the backends in another order still agree. Re-hashing per attempt is what
 * Envoy's Maglev does for a host its retry predicate rejects (`chooseHost(hash, attempt)`).
 *
 * Tables are built once per membership (a few milliseconds) and cached, the last few kept so a
 * backend that leaves and comes back does not rebuild; a pick is one hash of the key and one
 * array read while the key's backend is eligible.
 *
 * Weight is ignored: a weighted table would have to be rebuilt (and keys remapped) at every
 * step of a slow-start ramp. Use a weighted strategy when shares matter more than affinity.
 *
 * @module
 */

import { hash32, rehash32 } from "./_hash.ts";
import { buildMaglevTable } from "./_maglev_table.ts";
import type { Candidate, PickContext, Strategy, StrategyOptions } from "./types.ts";

/** Seed for hashing request keys, independent of the table's name hashes. */
const KEY_SEED = 0x1b56c4e9;
/** Memberships whose tables stay cached (a backend leaving and rejoining is common). */
const CACHED_TABLES = 4;
/**
 * Re-hashes tried for a key whose backend may not take the request, before walking the table
 * slot by slot: with half the members down, 32 draws all miss once in four billion keys.
 */
const REHASHES = 32;

/** The ip_hash strategy, with a counter tests and debugging read. */
export interface IpHashStrategy extends Strategy {
  /** Maglev tables built so far: one per membership not in the cache, none per health change. */
  readonly tableBuilds: number;
}

/**
 * Create a Maglev consistent-hashing strategy.
 *
 * @example Usage
 * ```ts
 * import { createIpHash } from "./ip_hash.ts";
 * const ipHash = createIpHash({ random: Math.random, now: performance.now });
 * const list = [{ id: 0, name: "a", weight: 1, inFlight: 0 }, { id: 1, name: "b", weight: 1, inFlight: 0 }];
 * const chosen = ipHash.pick(list, { hashKey: "203.0.113.7" });
 * // With "a" or "b" down, only the keys of the one that is down move:
 * ipHash.pick(list, { hashKey: "203.0.113.7", eligible: (c) => c.name !== "b" });
 * ```
 */
export function createIpHash(_options: StrategyOptions): IpHashStrategy {
  const tables = new Map<string, Int32Array>();
  let lastList: readonly Candidate[] | undefined;
  let lastTable: Int32Array = new Int32Array(0);
  let lastLength = 0;
  let builds = 0;

  function tableFor(members: readonly Candidate[]): Int32Array {
    if (members === lastList && members.length === lastLength) return lastTable;
    const names = members.map((c) => c.name);
    // Indices in the table refer to positions in `names`, so the key keeps the order.
    const key = names.join("\u0000");
    let table = tables.get(key);
    if (table === undefined) {
      table = buildMaglevTable(names);
      builds++;
      if (tables.size >= CACHED_TABLES) tables.delete(tables.keys().next().value!);
    } else {
      tables.delete(key); // re-insert below: most recently used last
    }
    tables.set(key, table);
    lastList = members;
    lastTable = table;
    lastLength = members.length;
    return table;
  }

  return {
    name: "ip_hash",
    wantsMembership: true,
    get tableBuilds() {
      return builds;
    },
    pick(members: readonly Candidate[], ctx: PickContext) {
      const n = members.length;
      if (n === 0) return undefined;
      const eligible = ctx.eligible;
      if (n === 1) return eligible === undefined || eligible(members[0]) ? members[0] : undefined;
      const table = tableFor(members);
      const m = table.length;
      const hash = hash32(ctx.hashKey, KEY_SEED);
      const own = members[table[hash % m]];
      if (eligible === undefined || eligible(own)) return own;
      // The key's preference list: the owners of the slots its re-hashes land on. Each draw is
      // a fresh slot, so a down member's keys spread over the others in proportion to their
      // slots (evenly), and every replica walks the same list.
      let slot = 0;
      for (let attempt = 1; attempt <= REHASHES; attempt++) {
        slot = rehash32(hash, attempt) % m;
        const next = members[table[slot]];
        if (eligible(next)) return next;
      }
      // Nearly everything is down: walk on slot by slot, at most one lap. The shell promises an
      // eligible member; a caller that breaks the promise gets undefined, not a loop.
      for (let step = 1; step < m; step++) {
        slot = slot + 1 === m ? 0 : slot + 1;
        const next = members[table[slot]];
        if (eligible(next)) return next;
      }
      return undefined;
    },
  };
}
