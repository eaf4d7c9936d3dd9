import assert from "node:assert/strict";
import { type Cli, runCli } from "../../../demo/shared/cli.ts";
import type { Parsed } from "../../../demo/shared/flags.ts";
import { BACKEND_USAGE } from "../../../demo/backend/config.ts";
import { LOAD_USAGE } from "../../../demo/load/config.ts";
import { DEMO_USAGE } from "../../../demo/demo_config.ts";
import { COMPARE_USAGE } from "../../../demo/compare/config.ts";
import { CYCLE_USAGE } from "../../../demo/compare/cycle_config.ts";
import { taskPermissions } from "../../_util/task.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** A tool whose parser accepts `--n N` (also `TOOL_N`) and `--help`, recording what runCli did. */
function tool(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ran: number[] = [];
  const parse = (args: string[], lookup: (name: string) => string | undefined): Parsed<number | "help"> => {
    if (args.includes("--help")) return { ok: true, value: "help" };
    const errors = args.filter((a) => a.startsWith("--") && a !== "--n").map((a) => `unknown ${a}`);
    const raw = args[args.indexOf("--n") + 1] ?? lookup("TOOL_N") ?? "0";
    if (!/^\d+$/.test(raw)) errors.push(`bad --n ${raw}`);
    return errors.length ? { ok: false, errors } : { ok: true, value: Number(raw) };
  };
  const cli: Cli<number> = {
    usage: "Usage: tool [--n N]",
    parse,
    run: (n) => {
      ran.push(n);
      return Promise.resolve(n % 256);
    },
    env: (name) => env[name],
    print: (text) => out.push(text),
    printError: (text) => err.push(text),
  };
  return { cli, out, err, ran };
}

Deno.test("runCli() prints every problem on its own line, then the usage, and exits 2 without running", async () => {
  const t = tool();
  assert.equal(await runCli(["--x", "--n", "seven", "--y"], t.cli), 2);
  assert.deepEqual(t.err, ["unknown --x", "unknown --y", "bad --n seven", "Usage: tool [--n N]"]);
  assert.deepEqual(t.out, []);
  assert.deepEqual(t.ran, []);
});

Deno.test("runCli() prints the usage on stdout for --help and exits 0 without running", async () => {
  const t = tool();
  assert.equal(await runCli(["--help"], t.cli), 0);
  assert.deepEqual(t.out, ["Usage: tool [--n N]"]);
  assert.deepEqual(t.err, []);
  assert.deepEqual(t.ran, []);
});

Deno.test("runCli() runs with the parsed options, hands `env` to the parser and returns run's code", async () => {
  const flag = tool({ TOOL_N: "9" });
  assert.equal(await runCli(["--n", "3"], flag.cli), 3);
  assert.deepEqual(flag.ran, [3], "the flag wins over the variable");
  const fromEnv = tool({ TOOL_N: "9" });
  assert.equal(await runCli([], fromEnv.cli), 9);
  assert.deepEqual(fromEnv.ran, [9]);
  assert.deepEqual([...fromEnv.out, ...fromEnv.err], [], "nothing printed by runCli itself");
});

/** The demo's entry points with the task whose permissions they run under and their usage. */
const ENTRY_POINTS = [
  { task: "backend", file: "demo/backend/backend.ts", usage: BACKEND_USAGE },
  { task: "load", file: "demo/load/load.ts", usage: LOAD_USAGE },
  { task: "demo", file: "demo/demo.ts", usage: DEMO_USAGE },
  { task: "compare", file: "demo/compare/compare.ts", usage: COMPARE_USAGE },
  { task: "cycle", file: "demo/compare/live_cycle.ts", usage: CYCLE_USAGE },
];

async function runEntry(file: string, task: string, args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...await taskPermissions(task), file, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

for (const { task, file, usage } of ENTRY_POINTS) {
  Deno.test(`${file} goes through runCli(): --help exits 0, an unknown flag exits 2 with one line`, async () => {
    const help = await runEntry(file, task, ["--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.equal(help.stdout, `${usage}\n`);
    assert.equal(help.stderr, "");
    const bad = await runEntry(file, task, ["--no-such-flag"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, "");
    const [line, ...rest] = bad.stderr.split("\n");
    assert.match(line, /Unknown option '--no-such-flag'/);
    assert.equal(rest.join("\n"), `${usage}\n`);
  });
}
