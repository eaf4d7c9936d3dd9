/**
 * The proxy's hedging counters as the compare runner reads them before and after a run: a module
 * of its own, so the runner does not import the report's formatting.
 *
 * @module
 */

/** Hedging counters of the proxy's `default` service. */
export interface HedgeCounts {
  readonly sent: number;
  readonly won: number;
  readonly lost: number;
  readonly refused: number;
}

const COUNTERS: Readonly<Record<keyof HedgeCounts, string>> = {
  sent: "lb_hedges_total",
  won: "lb_hedges_won_total",
  lost: "lb_hedges_lost_total",
  refused: "lb_hedge_budget_exhausted_total",
};

/** Read the hedging counters from a proxy's `/metrics`. */
export async function hedgeCounts(adminUrl: string): Promise<HedgeCounts> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const value = (name: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name}{service="default"} `));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
  };
  return Object.fromEntries(
    Object.entries(COUNTERS).map(([key, name]) => [key, value(name)]),
  ) as unknown as HedgeCounts;
}
