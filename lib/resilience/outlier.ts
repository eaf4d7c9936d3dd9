/**
 * Passive health (outlier detection): a backend that fails `consecutive_failures` requests in a
 * row is ejected for `base_ejection` x the number of times it was ejected, capped at
 * `max_ejection`, as Envoy does.
 *
 * Active checks probe one URL every few seconds; a backend can pass them and still fail real
 * traffic, or die between two probes. Counting failures on real requests catches both within a
 * handful of requests. Two rules keep it from making things worse:
 *
 * - never more than `max_ejected_percent` of the backends are ejected at once (rounded down), so a
 *   bad deploy or a shared dependency failing cannot empty the pool through passive health;
 * - the ejection multiplier decays by one for each `base_ejection` the backend went without being
 *   ejected again, so an old incident does not make a new one last longer forever.
 *
 * When the ejection time is over the backend is healthy again (the active checks agree: had they
 * failed `unhealthy_threshold` times meanwhile, the backend would already be `unhealthy`, and only
 * `healthy_threshold` passing checks bring it back). It ramps up with slow start either way.
 *
 * @module
 */

import type { Backend, Pool } from "../pool/mod.ts";
import type { PassiveConfig } from "../config/mod.ts";
import { type AttemptOutcome, matches } from "./failure.ts";

/** Options for {@linkcode OutlierDetector}. */
export interface OutlierOptions {
  readonly pool: Pool;
  /** Current passive config (changes on reload). */
  readonly config: () => PassiveConfig;
  /** Monotonic clock in ms. */
  readonly now: () => number;
  /** Called on each ejection (metrics). */
  readonly onEject?: (backend: Backend, durationMs: number) => void;
}

/** Counts consecutive failures per backend and ejects and returns backends. */
export class OutlierDetector {
  #options: OutlierOptions;
  #timers = new Map<Backend, ReturnType<typeof setTimeout>>();

  constructor(options: OutlierOptions) {
    this.#options = options;
  }

  /** Record the outcome of one attempt; `undefined` means a success. */
  record(backend: Backend, failure: AttemptOutcome | undefined): void {
    const config = this.#options.config();
    if (config.consecutiveFailures === 0) return;
    if (failure === undefined || !matches(config.on, failure)) {
      backend.passiveFailures = 0;
      return;
    }
    backend.passiveFailures++;
    if (
      backend.state === "healthy" && backend.passiveFailures >= config.consecutiveFailures &&
      this.#mayEject(config)
    ) this.#eject(backend, config);
  }

  #mayEject(config: PassiveConfig): boolean {
    const all = this.#options.pool.all();
    const ejected = all.reduce((n, b) => n + (b.state === "ejected" ? 1 : 0), 0);
    return ejected + 1 <= Math.floor(all.length * config.maxEjectedPercent / 100);
  }

  #eject(backend: Backend, config: PassiveConfig): void {
    const now = this.#options.now();
    if (backend.ejections > 0) {
      const calm = Math.floor((now - backend.ejectionEnd) / config.baseEjectionMs);
      backend.ejections = Math.max(0, backend.ejections - Math.max(0, calm));
    }
    backend.ejections++;
    const ms = Math.min(config.baseEjectionMs * backend.ejections, config.maxEjectionMs);
    backend.ejectionEnd = now + ms;
    this.#options.pool.setState(backend, "ejected");
    backend.passiveFailures = 0;
    this.#options.onEject?.(backend, ms);
    clearTimeout(this.#timers.get(backend));
    this.#timers.set(backend, setTimeout(() => this.#return(backend), ms));
  }

  #return(backend: Backend): void {
    this.#timers.delete(backend);
    if (backend.state !== "ejected") return;
    this.#options.pool.setState(backend, "healthy");
  }

  /** Cancel every pending return (shutdown). */
  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
