import assert from "node:assert/strict";
import { buildMaglevTable, MIN_TABLE_SIZE, tableSize } from "../../algorithms/_maglev_table.ts";

function isPrime(m: number): boolean {
  for (let d = 2; d * d <= m; d++) if (m % d === 0) return false;
  return m > 1;
}

Deno.test("tableSize() is prime, at least 100 slots per backend, and changes only in doublings", () => {
  for (const n of [1, 2, 3, 100, 655, 656, 1000, 1310, 1311, 5000]) {
    const m = tableSize(n);
    assert.ok(isPrime(m) && m >= 100 * n && m >= MIN_TABLE_SIZE, `${n}: ${m}`);
  }
  assert.equal(tableSize(2), tableSize(655));
  assert.equal(tableSize(656), tableSize(1310));
  assert.ok(tableSize(1311) > tableSize(1310));
});

Deno.test("buildMaglevTable() fills every slot and gives each backend floor or ceil of M/n", () => {
  for (const n of [1, 3, 10, 97]) {
    const names = Array.from({ length: n }, (_, i) => `backend-${i}`);
    const table = buildMaglevTable(names);
    const owned = new Array(n).fill(0);
    for (const owner of table) owned[owner]++;
    const low = Math.floor(table.length / n);
    for (const count of owned) assert.ok(count === low || count === low + 1, `${n}: ${count} vs ${low}`);
  }
});

Deno.test("buildMaglevTable() depends on the set of names, not their order", () => {
  const names = ["x", "y", "z", "w"];
  const reversed = names.toReversed();
  const a = buildMaglevTable(names);
  const b = buildMaglevTable(reversed);
  for (let s = 0; s < a.length; s++) assert.equal(names[a[s]], reversed[b[s]]);
});
