/**
 * Options of `deno task cycle` (and `deno task compare --live`), from flags and `LB_ADMIN_TOKEN`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseDuration } from "../../lib/config/mod.ts";
import type { Parsed } from "../shared/mod.ts";

/** What to cycle and how, as read from the command line. */
export interface CycleOptions {
  /** The proxy's admin listener, e.g. `http://localhost:8081`. */
  readonly adminUrl: string;
  /** Time each strategy stays active, in ms. */
  readonly every: number;
  /** Periods to run; Infinity runs until Ctrl-C. */
  readonly rounds: number;
  /** Strategies to cycle through; undefined for all the proxy lists. */
  readonly strategies?: readonly string[];
  /** The service to cycle; undefined for the proxy's only one. */
  readonly service?: string;
  /** Admin bearer token: `--token`, else `LB_ADMIN_TOKEN`. */
  readonly token?: string;
  /** Put the starting strategy back at the end. */
  readonly restore: boolean;
}

/** Usage text for `--help`. */
export const CYCLE_USAGE = `Cycle a running proxy through its strategies for a side-by-side view.

Usage: deno task cycle ADMIN_URL [--service NAME] [--every 60s] [--strategies a,b] [--rounds N]
                       [--token T]
       deno task cycle --live ADMIN_URL ...

  ADMIN_URL        the proxy's admin listener, e.g. http://localhost:8081
  --service NAME   the service to cycle (default: the proxy's only one; required with several)
  --every D        how long each strategy stays active (default 60s)
  --strategies L   comma-separated strategies (default: all the proxy lists)
  --rounds N       stop after N periods (default: until Ctrl-C)
  --token T        admin bearer token (default: env LB_ADMIN_TOKEN)
  --no-restore     leave the last strategy active instead of the starting one
`;

/**
 * Parse the cycle's flags.
 *
 * @param args Command-line arguments: the admin URL as the first positional or `--live URL`.
 * @param env Variable lookup, for `LB_ADMIN_TOKEN`.
 * @returns The options, `"help"`, or the problem found.
 *
 * @example Usage
 * ```ts
 * import { parseCycleArgs } from "./cycle_config.ts";
 * const parsed = parseCycleArgs(["http://localhost:8081", "--every", "30s"], () => undefined);
 * // { ok: true, value: { adminUrl: "http://localhost:8081", every: 30000, rounds: Infinity, ... } }
 * ```
 */
export function parseCycleArgs(
  args: string[],
  env: (name: string) => string | undefined,
): Parsed<CycleOptions | "help"> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        live: { type: "string" },
        every: { type: "string", default: "60s" },
        strategies: { type: "string" },
        service: { type: "string" },
        rounds: { type: "string" },
        token: { type: "string" },
        "no-restore": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: true, value: "help" };
  const adminUrl = values.live ?? positionals[0];
  if (!adminUrl) {
    return { ok: false, errors: ["Cannot cycle strategies: expected ADMIN_URL or --live ADMIN_URL"] };
  }
  const every = parseDuration(values.every);
  const rounds = values.rounds === undefined ? Infinity : Number(values.rounds);
  if (every === undefined || !(rounds >= 1)) {
    return { ok: false, errors: [`invalid --every ${values.every} or --rounds ${values.rounds}`] };
  }
  if (values.service !== undefined && !/^[a-z0-9_.-]{1,64}$/.test(values.service)) {
    return {
      ok: false,
      errors: [`Cannot use --service: expected a service name ([a-z0-9_.-]{1,64}), got "${values.service}"`],
    };
  }
  return {
    ok: true,
    value: {
      adminUrl,
      every,
      rounds,
      strategies: values.strategies?.split(",").map((s) => s.trim()).filter(Boolean),
      service: values.service,
      token: values.token ?? env("LB_ADMIN_TOKEN"),
      restore: !values["no-restore"],
    },
  };
}
