import assert from "node:assert/strict";
import type { CompareResult } from "../../../demo/compare/result.ts";
import { freePort } from "../../_util/prometheus.ts";
import { taskPermissions } from "../../_util/task.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const COMPARE = `${ROOT}demo/compare/compare.ts`;

async function compare(args: string[], out: string) {
  const perms = await taskPermissions("compare", { "--allow-write": `--allow-write=${out}` });
  return await run(args, perms);
}

/** Run compare.ts with `perms`, in `cwd` (default: this process's). */
async function run(args: string[], perms: string[], cwd?: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...perms, COMPARE, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** The cells of the markdown table under `## Results`, by strategy. */
function resultRows(markdown: string): { header: string[]; rows: Map<string, string[]> } {
  const section = markdown.split("## Results")[1].split("## Conclusions")[0];
  const lines = section.split("\n").filter((l) => l.startsWith("| "));
  const cells = (l: string) => l.slice(2, -2).split(" | ");
  return { header: cells(lines[0]), rows: new Map(lines.slice(2).map((l) => [cells(l)[0], cells(l)])) };
}

/** A table cell as a number: `48`, `8.4`, `≥2000` or `25.0%` (as 0.25). */
function number(cell: string): number {
  const n = Number(cell.replace(/^≥/, "").replace(/%$/, ""));
  assert.ok(Number.isFinite(n), `cell "${cell}" is a number`);
  return cell.endsWith("%") ? n / 100 : n;
}

Deno.test("deno task compare writes a report whose figures match its JSON output", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = await compare([
      "--scenario",
      "uniform",
      "--strategies",
      "round_robin,power_of_two",
      "--duration",
      "1s",
      "--warmup",
      "300ms",
      "--seed",
      "7",
      "--out",
      out,
      "--json",
    ], out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[#+\] +2\/2 +uniform +power_of_two/, "progress on stderr");
    assert.ok(r.stderr.includes(`reports: ${out}/compare-uniform.md`), "with --json, where the reports went");
    const result = JSON.parse(r.stdout) as CompareResult;
    assert.equal(result.settings.seed, 7);
    assert.equal(result.scenarios.length, 1);
    const [outcome] = result.scenarios;
    assert.deepEqual(outcome.rows.map((row) => row.strategy), ["round_robin", "power_of_two"]);

    const markdown = await Deno.readTextFile(`${out}/compare-uniform.md`);
    for (
      const heading of [
        "# Strategy comparison: uniform",
        "## Results",
        "## Conclusions",
        "## How this was measured",
      ]
    ) {
      assert.ok(markdown.includes(`\n${heading}\n`) || markdown.startsWith(`${heading}\n`), heading);
    }
    assert.ok(
      markdown.includes(`--scenario uniform --strategies round_robin,power_of_two`),
      "the exact command",
    );
    assert.match(markdown, /Seed 7/);
    assert.match(markdown, /Machine: \d+ cores, Deno \d+\.\d+\.\d+/);
    for (const chart of ["latency", "share"]) {
      assert.ok(markdown.includes(`](compare-uniform-${chart}.svg)`), `${chart} chart referenced`);
      const svg = await Deno.readTextFile(`${out}/compare-uniform-${chart}.svg`);
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
      assert.match(svg, /round_robin/);
    }

    const { header, rows } = resultRows(markdown);
    assert.deepEqual(header.slice(0, 7), [
      "strategy",
      "req/s",
      "p50 ms",
      "p90 ms",
      "p99 ms",
      "p99.9 ms",
      "errors",
    ]);
    assert.deepEqual(header.slice(7), ["a share", "b share", "c share", "d share"]);
    for (const row of outcome.rows) {
      const cells = rows.get(row.strategy);
      assert.ok(cells, `row for ${row.strategy}`);
      const close = (cell: string, value: number, tolerance: number, what: string) =>
        assert.ok(
          Math.abs(number(cell) - value) <= tolerance + 1e-9,
          `${row.strategy} ${what}: ${cell} vs ${value}`,
        );
      close(cells[1], row.achievedRate, 0.5, "req/s");
      [row.p50, row.p90, row.p99, row.p999].forEach((f, i) => {
        close(cells[2 + i], f.ms, f.ms < 10 ? 0.05 : 0.5, header[2 + i]);
        assert.equal(cells[2 + i].startsWith("≥"), f.atLeast);
      });
      close(cells[6], row.errorRate, 0.0005, "errors");
      ["a", "b", "c", "d"].forEach((b, i) => close(cells[7 + i], row.shares[b], 0.0005, `${b} share`));
      const routed = Object.values(outcome.runs.find((run) => run.strategy === row.strategy)!.routed);
      assert.ok(routed.reduce((n, v) => n + v, 0) > 0, "the proxy routed the measured requests");
    }
    // Round robin over identical backends: a quarter each, as measured by the proxy.
    for (const b of ["a", "b", "c", "d"]) assert.ok(Math.abs(outcome.rows[0].shares[b] - 0.25) < 0.01);
    // What the proxy says it routed (GET /api/backends) is what the load saw answered, give or take
    // the requests in flight at the window's edges: the admin API's per-backend counts still add up.
    const rr = outcome.runs.find((run) => run.strategy === "round_robin")!;
    assert.deepEqual(Object.keys(rr.summary.backends).sort(), ["a", "b", "c", "d"]);
    for (const [b, answered] of Object.entries(rr.summary.backends)) {
      assert.ok(
        Math.abs((rr.routed[b] ?? 0) - answered) <= Math.max(5, answered * 0.05),
        `${b}: routed ${rr.routed[b]} vs answered ${answered}`,
      );
    }

    const conclusions = markdown.split("## Conclusions")[1].split("## How")[0];
    assert.deepEqual(conclusions.trim().split("\n").map((l) => l.slice(2)), outcome.conclusions);
    const best = [...outcome.rows].sort((a, b) => a.p99.ms - b.p99.ms)[0];
    assert.match(
      conclusions,
      new RegExp(`\`${best.strategy}\` had the lowest p99 \\(${rows.get(best.strategy)![4]} ms\\)`),
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("deno task compare runs two-proxies through two proxies whose routed counts add up", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = await compare([
      "--scenario",
      "two-proxies",
      "--strategies",
      "round_robin",
      "--duration",
      "1s",
      "--warmup",
      "300ms",
      "--out",
      out,
      "--json",
    ], out);
    assert.equal(r.code, 0, r.stderr);
    const [outcome] = (JSON.parse(r.stdout) as CompareResult).scenarios;
    const [run] = outcome.runs;
    // Each proxy keeps its own round-robin turn; together they still split evenly.
    for (const b of ["x1", "x2", "x4"]) assert.ok(Math.abs(outcome.rows[0].shares[b] - 1 / 3) < 0.02, b);
    // The routed counts of both proxies together are what the load saw answered, give or take the
    // warm-up's requests still in flight when the first snapshot is read (the last one is read once
    // the measured load has drained).
    for (const [b, answered] of Object.entries(run.summary.backends)) {
      assert.ok(
        Math.abs((run.routed[b] ?? 0) - answered) <= Math.max(10, answered * 0.1),
        `${b}: routed ${run.routed[b]} vs answered ${answered}`,
      );
    }
    assert.equal(outcome.leader?.met, undefined, "prequal did not run: the goal is not measured");
    const markdown = await Deno.readTextFile(`${out}/compare-two-proxies.md`);
    assert.match(markdown, /taking turns between 2 proxies \(8 clients each\)/);
    assert.match(markdown, /## Goal\n\n`prequal` has the lowest p99 here.*\*\*not measured\*\*/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("deno task compare refuses an --out it may not write before running anything", async () => {
  const out = await Deno.makeTempDir();
  const elsewhere = await Deno.makeTempDir();
  try {
    const r = await compare(
      ["--scenario", "uniform", "--strategies", "round_robin", "--out", elsewhere],
      out,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^--out ${elsewhere}: not writable by \`deno task compare\``));
    assert.ok(!r.stderr.includes("uniform  round_robin"), "no run started");
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("deno task compare rejects unknown names and dispatches --live to the strategy cycle", async () => {
  const out = await Deno.makeTempDir();
  try {
    const bad = await compare(["--scenario", "nope", "--strategies", "fastest"], out);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--scenario: unknown "nope"; known: uniform, one-slow/);
    assert.match(bad.stderr, /--strategies: unknown "fastest"/);
    const port = freePort();
    const live = await compare(["--live", `http://localhost:${port}`, "--every", "1s", "--rounds", "1"], out);
    assert.equal(live.code, 1);
    assert.match(
      live.stderr,
      new RegExp(`cannot reach the admin API at http://localhost:${port}: fetch failed`, "i"),
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("deno task compare writes into reports/local by default, as the task may, and says where", async () => {
  // A scratch working directory stands in for the checkout, so its own reports/local stays untouched.
  const cwd = await Deno.makeTempDir();
  try {
    const read = ["demo", "lib", "algorithms", "node_modules"].map((dir) => `${ROOT}${dir}`).join(",");
    // The task's own --allow-write=reports, relative to the working directory as under `deno task`.
    const perms = await taskPermissions("compare", { "--allow-read": `--allow-read=${read}` });
    const args = [
      "--scenario",
      "uniform",
      "--strategies",
      "round_robin",
      "--duration",
      "100ms",
      "--warmup",
      "0s",
    ];
    const r = await run(args, perms, cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.trimEnd().endsWith("reports: reports/local/compare-uniform.md"), r.stdout);
    const files = [];
    for await (const e of Deno.readDir(`${cwd}/reports/local`)) files.push(e.name);
    assert.deepEqual(files.sort(), [
      "compare-uniform-latency.svg",
      "compare-uniform-share.svg",
      "compare-uniform.md",
    ]);
    const top = [];
    for await (const e of Deno.readDir(`${cwd}/reports`)) top.push(e.name);
    assert.deepEqual(top, ["local"], "nothing written beside the committed reports");

    const json = await run([...args, "--json", "--no-report"], perms, cwd);
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as CompareResult).scenarios.length, 1, "stdout is the JSON alone");
    assert.doesNotMatch(json.stderr, /reports:/, "--no-report writes and names no report");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
