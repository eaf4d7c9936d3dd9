import assert from "node:assert/strict";
import { settingsFrom } from "../../tools/bench/main.ts";
import { parseReport } from "../../tools/bench/report.ts";
import { gatedTest, needs } from "../_util/tools.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const num = (cell: string) => {
  const n = Number(cell);
  assert.ok(cell !== "" && Number.isFinite(n), `not a number: "${cell}"`);
  return n;
};

Deno.test("settingsFrom() writes the report to reports/local/bench.md unless --out names a file", () => {
  assert.equal(settingsFrom([], "/checkout").out, "/checkout/reports/local/bench.md");
  assert.equal(settingsFrom(["--out", "reports/bench.md"], "/checkout").out, "reports/bench.md");
});

gatedTest(
  "bench:proxy --quick measures every target and writes every report section",
  needs("wrk", "nginx", "haproxy", "caddy", "node"),
  async () => {
    const out = await Deno.makeTempFile({ suffix: ".md" });
    try {
      const run = await new Deno.Command("deno", {
        args: ["task", "bench:proxy", "--quick", "--out", out],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.ok(run.success, `harness failed:\n${stderr}`);
      const stdout = new TextDecoder().decode(run.stdout);
      assert.ok(stdout.trimEnd().endsWith(`report: ${out}`), "ends naming where the report went");
      const sections = parseReport(await Deno.readTextFile(out));

      const throughput = sections.get("Throughput")!;
      const names = throughput.map((r) => r[0]);
      for (const name of ["direct", "lb round_robin", "nginx", "haproxy", "caddy", "node http-proxy"]) {
        assert.ok(names.includes(name), `throughput row for ${name}`);
      }
      for (const [name, rps, p50, p99, ratio, _rounds, errors] of throughput) {
        assert.ok(num(rps) > 0, `${name} req/s`);
        assert.ok(num(p50) > 0 && num(p99) >= num(p50), `${name} latency`);
        assert.ok(num(ratio) > 0, `${name} ratio`);
        assert.equal(num(errors), 0, `${name} errors`);
      }
      assert.equal(throughput.find((r) => r[0] === "lb round_robin")![4], "1.00", "reference ratio");

      const latency = sections.get("Added latency at 2000 req/s")!;
      assert.deepEqual(latency.map((r) => r[0]), names, "fixed-rate latency for every target");
      for (const [name, p50, p99, addedP50, addedP99] of latency) {
        assert.ok(num(p50) > 0 && num(p99) >= num(p50), `${name} fixed-rate latency`);
        num(addedP50), num(addedP99);
      }

      const memory = sections.get("Memory")!;
      assert.equal(memory.length, 5);
      for (const [what, value] of memory) {
        if (what.startsWith("RSS growth")) num(value);
        else assert.ok(num(value) > 0, what);
      }

      const picks = sections.get("Pick cost")!;
      if (await Deno.stat(`${ROOT}/tools/bench/algorithms_bench.ts`).then(() => true, () => false)) {
        assert.ok(picks.length > 0, "pick cost rows");
        for (const [, name, avg, p99] of picks) assert.ok(num(avg) > 0 && num(p99) > 0, name);
      }

      const goals = sections.get("Goals")!;
      assert.equal(goals.length, 6);
      for (const [goal, measured, , met] of goals) {
        num(measured);
        assert.ok(met === "yes" || met === "no", goal);
      }
    } finally {
      await Deno.remove(out).catch(() => {});
    }
  },
);
