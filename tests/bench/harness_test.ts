import assert from "node:assert/strict";
import { settingsFrom } from "../../tools/bench/main.ts";
import { parseReport } from "../../tools/bench/report.ts";
import { gatedTest, needs } from "../_util/tools.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
/** A number cell; `context` (the harness's own log) goes into the message when it is not one. */
const cell = (text: string, context: string) => {
  const n = Number(text);
  assert.ok(text !== "" && Number.isFinite(n), `not a number: "${text}"\n${context}`);
  return n;
};
const num = (text: string) => cell(text, "");

Deno.test("settingsFrom() writes the report to reports/local/bench.md unless --out names a file", () => {
  assert.equal(settingsFrom([], "/checkout").out, "/checkout/reports/local/bench.md");
  assert.equal(settingsFrom(["--out", "reports/bench.md"], "/checkout").out, "reports/bench.md");
});

gatedTest(
  "bench:proxy --quick measures every target and writes every report section",
  needs("wrk", "nginx", "haproxy", "caddy", "node", "h2load", "openssl"),
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

      const machine = sections.get("Machine")!;
      assert.deepEqual(
        [machine[0][0], machine.at(-1)![0]],
        ["start", "end"],
        "load average at start and end",
      );
      for (const [when, , ...load] of machine) for (const x of load) assert.ok(num(x) >= 0, when);

      const throughput = sections.get("Throughput")!;
      const names = throughput.map((r) => r[0]);
      for (
        const name of [
          "direct",
          "yardstick: byte forwarder",
          "yardstick: HTTP floor",
          "lb round_robin",
          "nginx",
          "haproxy",
          "caddy",
          "node http-proxy",
        ]
      ) {
        assert.ok(names.includes(name), `throughput row for ${name}`);
      }
      for (const [name, rps, p50, p99, ratio, toFloor, _rounds, errors] of throughput) {
        assert.ok(num(rps) > 0, `${name} req/s`);
        assert.ok(num(p50) > 0 && num(p99) >= num(p50), `${name} latency`);
        assert.ok(num(ratio) > 0, `${name} ratio`);
        assert.ok(num(toFloor) > 0, `${name} ratio to the forwarder`);
        assert.equal(num(errors), 0, `${name} errors`);
      }
      assert.equal(throughput.find((r) => r[0] === "lb round_robin")![4], "1.00", "reference ratio");

      const latency = sections.get("Added latency at 2000 req/s")!;
      assert.deepEqual(latency.map((r) => r[0]), names, "fixed-rate latency for every target");
      for (const [name, p50, p99, addedP50, addedP99] of latency) {
        const rounds = stderr.split("\n").filter((l) => l.includes(`latency round`)).join("\n");
        assert.ok(
          cell(p50, rounds) > 0 && cell(p99, rounds) >= cell(p50, rounds),
          `${name} fixed-rate latency\n${rounds}`,
        );
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

      const yardsticks = ["yardstick: TLS byte forwarder", "yardstick: TLS byte forwarder behind a relay"];
      for (const section of ["HTTPS, HTTP/1.1", "HTTPS, HTTP/2"]) {
        const rows = sections.get(section)!;
        // The byte forwarders carry HTTP/1.1 only: h2 cannot pass through to an HTTP/1.1 backend.
        const names = ["lb round_robin", ...(section.endsWith("1.1") ? yardsticks : []), "nginx", "caddy"];
        assert.deepEqual(rows.map((r) => r[0]), names, section);
        for (const [name, rps, latency, ratio, cpu, _rounds, errors] of rows) {
          assert.ok(num(rps) > 0 && num(latency) > 0 && num(ratio) > 0 && num(cpu) > 0, `${section} ${name}`);
          assert.equal(num(errors), 0, `${section} ${name} errors`);
        }
        assert.equal(rows.find((r) => r[0] === "nginx")![3], "1.00", `${section}: ratios are to nginx`);
      }
      assert.match(
        (await Deno.readTextFile(out)).split("## HTTPS, HTTP/2")[1],
        /lb round_robin h2, nginx h2, caddy h2/,
        "every target negotiated h2",
      );

      const echo = sections.get("WebSocket echo")!;
      assert.deepEqual(echo.map((r) => r[0]), ["direct", "lb round_robin", "nginx"]);
      for (const [name, rate, rtt, ratio, proxyCpu, backendCpu, _rounds, errors] of echo) {
        assert.ok(num(rate) > 0 && num(rtt) > 0 && num(ratio) > 0 && num(backendCpu) > 0, `echo ${name}`);
        if (name !== "direct") assert.ok(num(proxyCpu) > 0, `echo ${name} proxy CPU`);
        assert.equal(num(errors), 0, `echo ${name} errors`);
      }

      const idle = sections.get("Idle WebSocket tunnels")!;
      assert.deepEqual(idle.map((r) => r[0]), ["lb round_robin", "nginx"]);
      for (const [name, tunnels, before, withTunnels, perTunnel, afterClose] of idle) {
        assert.equal(num(tunnels), 200, `${name} tunnels in quick mode`);
        assert.ok(num(before) > 0 && num(withTunnels) > 0 && num(afterClose) > 0, `${name} RSS`);
        num(perTunnel);
      }

      const workers = sections.get("Workers")!;
      assert.deepEqual(workers.map((r) => `${r[0]} ${r[1]}`), ["lb 1", "lb 2", "nginx 1", "nginx 2"]);
      for (const [proxy, n, rps, scaling, , errors] of workers) {
        assert.ok(num(rps) > 0 && num(scaling) > 0, `workers ${proxy} ${n}`);
        assert.equal(num(errors), 0, `workers ${proxy} ${n} errors`);
      }

      const goals = sections.get("Goals")!;
      assert.equal(goals.length, 12);
      assert.deepEqual(goals.slice(7).map((g) => g[0]), [
        "HTTPS HTTP/1.1 throughput ÷ nginx",
        "HTTPS h2 throughput ÷ nginx",
        "WebSocket echo throughput ÷ nginx",
        "RSS per idle WebSocket tunnel, 200 open (KiB)",
        "scaling 1 -> 2 workers ÷ nginx's",
      ]);
      for (const [goal, measured, , met] of goals) {
        num(measured);
        assert.ok(met === "yes" || met === "no", goal);
      }
    } finally {
      await Deno.remove(out).catch(() => {});
    }
  },
);
