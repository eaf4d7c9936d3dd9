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

const KEYS = Object.keys(COUNTERS) as (keyof HedgeCounts)[];

/** Counts with each counter's value from `value`. */
function countsOf(value: (key: keyof HedgeCounts) => number): HedgeCounts {
  return Object.fromEntries(KEYS.map((key) => [key, value(key)])) as unknown as HedgeCounts;
}

/** Read the hedging counters from a proxy's `/metrics`. */
export async function hedgeCounts(adminUrl: string): Promise<HedgeCounts> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const lines = text.split("\n");
  return countsOf((key) => {
    const line = lines.find((l) => l.startsWith(`${COUNTERS[key]}{service="default"} `));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
  });
}

/** The hedging counters of several proxies in front of the same backends, summed. */
export async function totalHedgeCounts(adminUrls: readonly string[]): Promise<HedgeCounts> {
  const all = await Promise.all(adminUrls.map(hedgeCounts));
  return countsOf((key) => all.reduce((n, c) => n + c[key], 0));
}

/** What each counter gained from `before` to `after`. */
export function hedgeCountsSince(before: HedgeCounts, after: HedgeCounts): HedgeCounts {
  return countsOf((key) => after[key] - before[key]);
}
