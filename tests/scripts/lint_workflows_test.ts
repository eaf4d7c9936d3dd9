import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { formatProblem, loadLinter, workflowFiles } from "../../scripts/lint_workflows.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CI = `${ROOT}.github/workflows/ci.yml`;

/** Run `deno task lint:workflows` (the command `deno task check` runs) on `files`. */
async function runTask(files: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "lint:workflows", ...files],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, output: decode(stdout) + decode(stderr) };
}

/** Write `text` as a workflow in a fresh temp dir and return its path. */
async function writeWorkflow(text: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "lb-workflow-" });
  const path = `${dir}/ci.yml`;
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("lint:workflows passes the repository's CI workflow", async () => {
  const { code, output } = await runTask([]);
  assert.equal(code, 0, output);
  assert.match(output, /workflows: [1-9]\d* checked, 0 problem\(s\)/);
});

Deno.test("lint:workflows fails a broken copy of the CI workflow and names each problem", async () => {
  const real = await Deno.readTextFile(CI);
  const broken = real
    .replace("contents: read", "contents: reed")
    .replace("bash scripts/test.sh deno task test", "bash scripts/test.sh deno task test ${{ github.evnt }}");
  assert.notEqual(broken, real, "the mutations must apply to the real file");
  const path = await writeWorkflow(broken);
  try {
    const { code, output } = await runTask([path]);
    assert.equal(code, 1, output);
    assert.match(output, /"reed" is invalid for permission of scope "contents".*\[permissions\]/);
    assert.match(output, /property "evnt" is not defined.*\[expression\]/);
    assert.match(output, /1 checked, 2 problem\(s\)/);
  } finally {
    await Deno.remove(path.replace(/\/ci\.yml$/, ""), { recursive: true });
  }
});

Deno.test("lint:workflows fails on a file it cannot read instead of linting nothing", async () => {
  const { code, output } = await runTask(["/nonexistent/ci.yml"]);
  assert.equal(code, 1, output);
  assert.match(output, /\/nonexistent\/ci\.yml: cannot read/);
});

Deno.test("loadLinter() reports YAML syntax errors with their line", async () => {
  const lint = loadLinter();
  const problems = await lint("on: push\njobs:\n  a: [\n", "broken.yml");
  assert.equal(problems.length, 1);
  assert.equal(problems[0].kind, "syntax-check");
  assert.equal(problems[0].file, "broken.yml");
  assert.match(formatProblem(problems[0]), /^broken\.yml:\d+:\d+: could not parse as YAML/);
});

Deno.test("loadLinter() reports a job that needs a job the workflow does not have", async () => {
  const lint = loadLinter();
  const text = [
    "on: push",
    "jobs:",
    "  a:",
    "    runs-on: ubuntu-24.04",
    "    needs: [b]",
    "    steps:",
    "      - run: true",
  ].join("\n");
  const problems = await lint(text, "needs.yml");
  assert.deepEqual(problems.map((p) => [p.kind, p.line]), [["job-needs", 3]]);
});

Deno.test("workflowFiles() lists only YAML files and is empty for a missing directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lb-workflows-" });
  try {
    await Deno.writeTextFile(`${dir}/b.yaml`, "");
    await Deno.writeTextFile(`${dir}/a.yml`, "");
    await Deno.writeTextFile(`${dir}/notes.md`, "");
    assert.deepEqual(workflowFiles(dir), [`${dir}/a.yml`, `${dir}/b.yaml`]);
    assert.deepEqual(workflowFiles(`${dir}/missing`), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
