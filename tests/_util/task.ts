/**
 * The permissions a `deno task` grants, read from deno.json, so a test that runs the same entry
 * point as a subprocess fails when the code needs more than the task allows.
 *
 * @module
 */

const DENO_JSON = new URL("../../deno.json", import.meta.url);

/**
 * The `--allow-*` flags of task `name`, optionally with some replaced (a test writes to a
 * temporary directory instead of `reports/`).
 *
 * @example Usage
 * ```ts
 * import { taskPermissions } from "./task.ts";
 * const perms = await taskPermissions("demo"); // ["--allow-net=127.0.0.1", ...]
 * ```
 */
export async function taskPermissions(name: string, replace: Record<string, string> = {}): Promise<string[]> {
  const json = JSON.parse(await Deno.readTextFile(DENO_JSON)) as { tasks: Record<string, string> };
  const task = json.tasks[name];
  if (task === undefined) throw new Error(`deno.json has no task "${name}"`);
  return task.split(/\s+/).filter((a) => a.startsWith("--allow-")).map((flag) => {
    const key = flag.split("=")[0];
    return replace[key] ?? flag;
  });
}
