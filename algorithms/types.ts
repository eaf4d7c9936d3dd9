/**
 * The contract between the balancer shell (`lib/`) and the strategies in `algorithms/`.
 *
 * The shell owns health, draining, limits, retries and metrics; it hands a strategy only the
 * backends that may take a request right now. A strategy is pure: no I/O, no logging, no
 * metrics, and randomness and time come in through {@linkcode StrategyOptions}, so tests are exact.
 *
 * One exception, declared by the strategy ({@linkcode Strategy.wantsMembership}): consistent
 * hashing must not change its table when health changes, or two proxy replicas whose health views
 * differ for a moment send the same key to different backends. Such a strategy gets every member
 * of the pool (every backend past its first health check, healthy or not), sorted by id, and a predicate saying which may take this request
 * ({@linkcode PickContext.eligible}); it must return an eligible one. The shell still decides
 * eligibility, and every other strategy sees only eligible backends.
 *
 * @module
 */

/** What a strategy may read about a backend. The shell's backend objects implement it. */
export interface Candidate {
  /** Unique, stable name (`backends[].name`). Strategies key their state by it. */
  readonly name: string;
  /**
   * Stable ordinal assigned by the pool when the backend is added: unique, never reused, and
   * candidate arrays are always sorted by it. Lets order-based strategies resume where they were
   * after the set changes.
   */
  readonly id: number;
  /**
   * Effective weight, a positive number: the configured weight, reduced while the backend ramps
   * up after becoming healthy (slow start). Strategies that ignore weight must still accept it.
   */
  readonly weight: number;
  /** Requests currently in flight to this backend, counted by the shell. */
  readonly inFlight: number;
  /**
   * The backend's live entry in the shell's probe pool, for strategies that ask for probes
   * ({@linkcode Strategy.probing}): undefined when the pool holds no usable answer from it (never
   * probed, expired, or used up). The shell probes, ages and counts uses; strategies only read.
   */
  readonly probe?: ProbeSample;
}

/**
 * One probe answer as a strategy sees it (Prequal, Wydrowski et al., NSDI 2024): the backend's
 * requests in flight and its latency, as the backend reported them or as the shell measured.
 */
export interface ProbeSample {
  /**
   * Requests in flight at the backend when it answered (from every client, when the backend
   * reports it), plus one for each request the shell has sent it on this answer since.
   */
  readonly rif: number;
  /** The backend's latency estimate for a request arriving now, in milliseconds. */
  readonly latencyMs: number;
}

/** Per-request inputs a strategy may use to choose. */
export interface PickContext {
  /**
   * Affinity key for hashing strategies, computed by the shell from `hash.key`
   * (client IP, a header or a cookie, falling back to the client IP). Always set.
   */
  readonly hashKey: string;
  /**
   * Which candidates may take this request (healthy, not draining, below their connection limit,
   * not yet tried by this request). Set only for strategies that declare
   * {@linkcode Strategy.wantsMembership}, and then true for at least one candidate; absent means
   * every candidate may be chosen.
   */
  readonly eligible?: (candidate: Candidate) => boolean;
}

/** What the shell reports after each upstream attempt completes (response headers or failure). */
export interface Feedback {
  /** Time from forwarding to the upstream response headers or the failure, in milliseconds. */
  readonly latencyMs: number;
  /** False for connect errors, resets, timeouts and 5xx responses. */
  readonly ok: boolean;
}

/** Container resource usage for one backend, as fed by the Docker stats collector. */
export interface ResourceSample {
  /** CPU used over the last interval as a share of the CPUs available to the container, 0..1. */
  readonly cpu: number;
  /** Memory in use (net of page cache) over the limit, 0..1. */
  readonly memory: number;
  /** When the sample was taken, in the same clock as {@linkcode StrategyOptions.now} (ms). */
  readonly at: number;
}

/** Source of resource samples, keyed by backend name. The Docker module implements it. */
export interface ResourceStats {
  /** Latest sample for the backend, or undefined when none has been seen. */
  get(backend: string): ResourceSample | undefined;
}

/** Per-strategy tuning read from config; every field has a default in the strategy. */
export interface StrategyTuning {
  /** peak_ewma: decay window in milliseconds (default 10 000). */
  readonly ewmaDecayMs?: number;
  /** least_resources: weight of the CPU ratio in the score (default 0.6). */
  readonly cpuWeight?: number;
  /** least_resources: weight of the memory ratio in the score (default 0.4). */
  readonly memoryWeight?: number;
  /** least_resources: samples older than this many milliseconds are stale (default 10 000). */
  readonly statsMaxAgeMs?: number;
  /** prequal: the quantile of the probed RIFs above which a backend is hot (default 1: none is; the paper's 0.84). */
  readonly qRif?: number;
}

/** Everything a strategy factory receives. */
export interface StrategyOptions {
  /** Uniform random number in [0, 1). Inject a seeded one in tests. */
  readonly random: () => number;
  /** Monotonic clock in milliseconds. */
  readonly now: () => number;
  /** Container stats (least_resources only). */
  readonly stats?: ResourceStats;
  /** Tuning from config. */
  readonly tuning?: StrategyTuning;
}

/**
 * A balancing strategy. `pick` must be synchronous and cheap: the shell increments the chosen
 * backend's in-flight count in the same synchronous step, so no two picks see stale counts.
 */
export interface Strategy {
  /** Canonical name, as in config (`round_robin`, ...). */
  readonly name: string;
  /**
   * True when the strategy wants the whole membership instead of the eligible backends: `pick`
   * then gets every member of the pool, healthy or not (the same array until one joins or
   * leaves; a new backend joins with its first health check) and
   * `ctx.eligible`, and must return a candidate `ctx.eligible` accepts. For strategies whose
   * choice must not depend on health (Maglev's table, see `ip_hash.ts`). @default false
   */
  readonly wantsMembership?: boolean;
  /**
   * Choose one of `candidates` (never mutated by the strategy), or undefined when the list is
   * empty. The candidates are all eligible, unless the strategy {@linkcode wantsMembership}: then
   * it must choose one that `ctx.eligible` accepts, when given. The array may differ between
   * calls: backends join, leave or change health.
   */
  pick(candidates: readonly Candidate[], ctx: PickContext): Candidate | undefined;
  /** Called after each attempt to a backend this strategy picked or any other (optional). */
  observe?(backend: Candidate, feedback: Feedback): void;
  /** Called when a backend leaves the pool for good, so per-backend state can be dropped. */
  forget?(name: string): void;
  /**
   * True when the strategy reads {@linkcode Candidate.probe}: while it is the current strategy,
   * the shell probes backends and keeps the probe pool (lib/pool/prober.ts). Default false.
   */
  readonly probing?: boolean;
}

/** A function that builds a strategy; one per file in `algorithms/`. */
export type StrategyFactory = (options: StrategyOptions) => Strategy;
