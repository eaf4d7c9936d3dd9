/**
 * The prologue every demo entry point shares: parse the command line, answer `--help`, report bad
 * flags, then run.
 *
 * One copy, so every tool treats its command line alike: each problem on its own line and the
 * usage after them on stderr with exit code 2; `--help` prints the usage on stdout and exits 0.
 *
 * @module
 */

import { type Parsed, processEnv } from "./flags.ts";

/** One command-line tool for {@linkcode runCli}: how to read its flags and what to do with them. */
export interface Cli<T> {
  /** Usage text: printed on stderr after the problems, or on stdout for `--help`. */
  readonly usage: string;
  /**
   * Read flags (and environment variables) into options, `"help"`, or every problem found.
   *
   * @param args The command-line arguments.
   * @param env Variable lookup: {@linkcode Cli.env}.
   */
  readonly parse: (args: string[], env: (name: string) => string | undefined) => Parsed<T | "help">;
  /** Run with the parsed options; resolves to the exit code. */
  readonly run: (options: T) => Promise<number>;
  /**
   * Variable lookup handed to `parse`.
   *
   * @default {processEnv} (a variable the permissions deny reads as unset)
   */
  readonly env?: (name: string) => string | undefined;
  /**
   * Where `--help` prints the usage.
   *
   * @default {console.log}
   */
  readonly print?: (text: string) => void;
  /**
   * Where problems and the usage after them go.
   *
   * @default {console.error}
   */
  readonly printError?: (text: string) => void;
}

/**
 * Parse `args` with `cli.parse` and run `cli.run`, or explain why not.
 *
 * @param args The command-line arguments, e.g. `Deno.args`.
 * @param cli The tool's usage, parser and runner.
 * @returns The exit code: 2 for bad flags, 0 for `--help`, else what `cli.run` returned.
 *
 * @example An entry point
 * ```ts ignore
 * import { runCli } from "../shared/mod.ts";
 *
 * export async function main(args: string[] = Deno.args): Promise<number> {
 *   return await runCli(args, { usage: LOAD_USAGE, parse: parseLoadArgs, run: load });
 * }
 *
 * if (import.meta.main) Deno.exit(await main());
 * ```
 */
export async function runCli<T>(args: string[], cli: Cli<T>): Promise<number> {
  const { env = processEnv, print = console.log, printError = console.error } = cli;
  const parsed = cli.parse(args, env);
  if (!parsed.ok) {
    for (const error of parsed.errors) printError(error);
    printError(cli.usage);
    return 2;
  }
  if (parsed.value === "help") {
    print(cli.usage);
    return 0;
  }
  return await cli.run(parsed.value);
}
