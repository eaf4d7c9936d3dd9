/** The cost split's parsing and table: perf's report rows become cost centres per request. */
import assert from "node:assert/strict";
import { centreOf, parseDsoReport, type Sample, table } from "../../tools/bench/cost_split.ts";

const REPORT = `# Samples: 3K of event 'cpu-clock:pppH'
#
# Overhead  Shared Object
# ........  .................
#
    62.50%  [kernel.kallsyms]
    25.00%  deno
     7.50%  [JIT] tid 4242
     2.50%  libc.so.6
     1.25%  perf-4242.map
     1.25%  libgcc_s.so.1
`;

Deno.test("centreOf names the centre of each object perf reports", () => {
  assert.equal(centreOf("[kernel.kallsyms]"), "kernel");
  assert.equal(centreOf("[vdso]"), "kernel");
  assert.equal(centreOf("deno"), "deno binary");
  assert.equal(centreOf("[JIT] tid 17"), "JIT JavaScript");
  assert.equal(centreOf("perf-17.map"), "JIT JavaScript");
  assert.equal(centreOf("libc.so.6"), "libc");
  assert.equal(centreOf("libgcc_s.so.1"), "other");
});

Deno.test("parseDsoReport adds the shares of each centre and skips the comments", () => {
  const shares = parseDsoReport(REPORT);
  assert.deepEqual(shares, {
    kernel: 0.625,
    "deno binary": 0.25,
    "JIT JavaScript": 0.0875,
    libc: 0.025,
    other: 0.0125,
  });
});

Deno.test("table splits the median CPU per request by the median shares", () => {
  const shares = parseDsoReport(REPORT);
  const samples: Sample[] = [
    { rps: 1000, cpuUsPerRequest: 40, shares },
    { rps: 3000, cpuUsPerRequest: 60, shares },
    { rps: 2000, cpuUsPerRequest: 80, shares },
  ];
  const lines = table(new Map([["proxy", samples]])).split("\n");
  assert.equal(lines.length, 3);
  assert.equal(lines[2], "| proxy | 2000 | 60.0 | 37.5 | 15.0 | 5.3 | 1.5 | 0.8 |");
});
