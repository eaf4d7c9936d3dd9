/**
 * Named scenarios for `deno task compare`: which backends, how fast, how many at once, how
 * often they fail, and how much load to offer.
 *
 * Capacity is real, not nominal: a backend serves at most `capacity` requests at once and each
 * takes `latencyMs` on average, so it completes at most `capacity × 1000 / latencyMs` requests per
 * second and queues the rest, as a saturated server does. Offered load is a share of the sum of
 * those capacities, so "60% load" means the same thing in every scenario.
 *
 * @module
 */

import { type BackendSpec, capacityRate } from "../backend/mod.ts";

/**
 * One proxy setup a scenario runs, when it compares setups rather than strategies: a row label,
 * the strategy, and config lines added to the proxy's (a `hedging` section, say).
 */
export interface Variant {
  /** Row label in the tables, reports and charts. */
  readonly label: string;
  /** Canonical strategy name; `--strategies` keeps the variants whose strategy it lists. */
  readonly strategy: string;
  /** Top-level YAML lines added to the proxy config. @default none */
  readonly config?: string;
}

/**
 * What a hedging scenario must show: each hedging variant's p99.9 at most `p999Ratio` times the
 * `baseline` variant's, for at most `extraLoad` more requests reaching the backends.
 */
export interface HedgingGoal {
  /** Label of the variant without hedging. */
  readonly baseline: string;
  readonly p999Ratio: number;
  /** Extra backend requests as a share of the baseline's, 0..1. */
  readonly extraLoad: number;
}

/** A named comparison setup. */
export interface Scenario {
  readonly name: string;
  /** One sentence: what the scenario shows. */
  readonly description: string;
  readonly backends: readonly BackendSpec[];
  /** Offered load as a share of the total capacity, 0..1. */
  readonly utilisation: number;
  /** Clients of the load generator, each with its own `X-Forwarded-For` address. */
  readonly clients: number;
  /**
   * What this scenario must show: the best adaptive strategy's p99 at most `ratio` times the
   * `baseline` strategy's. The report says whether the run met it, with the figures.
   */
  readonly goal?: { readonly baseline: string; readonly ratio: number };
  /** The setups to run instead of every strategy with the proxy's defaults. */
  readonly variants?: readonly Variant[];
  /** Measure at least this long whatever `--duration` says: a p99.9 needs ~10,000 requests. */
  readonly minDurationMs?: number;
  /** The goal of a scenario whose variants hedge; the report gives its own section to it. */
  readonly hedgingGoal?: HedgingGoal;
}

/** The runs of `scenario`: its variants whose strategy is in `strategies`, or those strategies. */
export function variantsOf(scenario: Scenario, strategies: readonly string[]): Variant[] {
  if (!scenario.variants) return strategies.map((strategy) => ({ label: strategy, strategy }));
  return scenario.variants.filter((v) => strategies.includes(v.strategy));
}

/** Offered load of a scenario in requests per second: utilisation × total capacity. */
export function offeredRate(scenario: Scenario): number {
  return scenario.utilisation * scenario.backends.reduce((sum, b) => sum + capacityRate(b), 0);
}

/** A fast backend: 20 ms mean, lognormal with 5 ms spread, 4 at once, so 200 req/s. */
function fast(name: string, extra: Partial<BackendSpec> = {}): BackendSpec {
  return {
    name,
    latencyMs: 20,
    jitterMs: 5,
    distribution: "lognormal",
    capacity: 4,
    errorRate: 0,
    weight: 1,
    ...extra,
  };
}

const mixed = [
  fast("x1", { capacity: 2 }),
  fast("x2", { capacity: 4 }),
  fast("x4", { capacity: 8 }),
];

/** The scenarios by name, in the order reports list them. */
export const SCENARIOS: Readonly<Record<string, Scenario>> = Object.freeze({
  uniform: {
    name: "uniform",
    description: "Four identical backends (200 req/s each): the baseline every strategy should handle.",
    backends: ["a", "b", "c", "d"].map((n) => fast(n)),
    utilisation: 0.6,
    clients: 16,
  },
  "one-slow": {
    name: "one-slow",
    description: "Three fast backends (200 req/s each) and one five times slower (100 ms, 40 req/s).",
    backends: [fast("a"), fast("b"), fast("c"), fast("slow", { latencyMs: 100, jitterMs: 25 })],
    utilisation: 0.6,
    clients: 16,
    goal: { baseline: "round_robin", ratio: 0.5 },
  },
  heterogeneous: {
    name: "heterogeneous",
    description: "Capacities 1x, 2x and 4x (2, 4 and 8 requests at once, 20 ms each), equal weights.",
    backends: mixed,
    utilisation: 0.6,
    clients: 16,
  },
  flaky: {
    name: "flaky",
    description: "Four identical backends; one answers 20% of its requests with 500.",
    backends: [fast("a"), fast("b"), fast("c"), fast("flaky", { errorRate: 0.2 })],
    utilisation: 0.6,
    clients: 16,
  },
  weighted: {
    name: "weighted",
    description: "The heterogeneous backends with weights 1, 2 and 4 configured to match their capacities.",
    backends: mixed.map((b) => ({ ...b, weight: b.capacity / 2 })),
    utilisation: 0.6,
    clients: 16,
  },
  "long-tail": {
    name: "long-tail",
    description: "Four identical backends (20 ms, 8 at once); 1% of each backend's requests take 1 s, " +
      "independently: round robin without hedging, and with hedged requests after 50 ms or after the p95.",
    backends: ["a", "b", "c", "d"].map((n) => fast(n, { capacity: 8, tailRatio: 0.01, tailMs: 1_000 })),
    // Light load, long window: the tail is the backends' own, not queueing, and 5,000 requests
    // put some 50 slow first attempts in the window and the p99.9 at the fifth slowest answer.
    utilisation: 0.2,
    clients: 16,
    variants: [
      { label: "no hedging", strategy: "round_robin" },
      { label: "hedging 50ms", strategy: "round_robin", config: "hedging: {delay: 50ms, max_ratio: 0.05}" },
      { label: "hedging p95", strategy: "round_robin", config: "hedging: {delay: p95, max_ratio: 0.05}" },
    ],
    minDurationMs: 25_000,
    hedgingGoal: { baseline: "no hedging", p999Ratio: 0.3, extraLoad: 0.05 },
  },
});

/** Scenario names run when none is given. */
export const DEFAULT_SCENARIOS: readonly string[] = Object.freeze(Object.keys(SCENARIOS));
