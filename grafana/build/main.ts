/**
 * Write the provisioned dashboards to grafana/dashboards/*.json.
 *
 * ```
 * deno task dashboards          # regenerate
 * deno task dashboards --check  # exit 1 when a committed file is stale
 * ```
 *
 * The JSON files are what Grafana reads and are committed; these modules are their source.
 *
 * @module
 */

import { loadBalancerDashboard } from "./load_balancer.ts";
import { strategiesDashboard } from "./strategies.ts";

/** File name (under grafana/dashboards/) to dashboard JSON text. */
export function renderDashboards(): Map<string, string> {
  return new Map([
    ["load_balancer.json", JSON.stringify(loadBalancerDashboard(), null, 2) + "\n"],
    ["strategies.json", JSON.stringify(strategiesDashboard(), null, 2) + "\n"],
  ]);
}

/** The directory Grafana's file provider reads (mounted in compose). */
export const DASHBOARD_DIR: URL = new URL("../dashboards/", import.meta.url);

/** CLI entry point; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  let stale = 0;
  for (const [name, text] of renderDashboards()) {
    const file = new URL(name, DASHBOARD_DIR);
    const current = await Deno.readTextFile(file).catch(() => "");
    if (current === text) continue;
    stale++;
    if (check) console.error(`${file.pathname} is stale: run deno task dashboards`);
    else {
      await Deno.writeTextFile(file, text);
      console.log(`wrote ${file.pathname}`);
    }
  }
  return check && stale > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
