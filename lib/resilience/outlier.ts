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

import type { PassiveConfig } from "../config/mod.ts";
import { type AttemptOutcome, matches } from "./failure.ts";

/**
 * What the detector needs from the pool: its members and the two state moves it makes. The pool
 * owns backend state; the detector only asks for these moves (`ejectionTarget` in lib/pool/).
 */
export interface EjectionTarget<B> {
  /** Every member now: `max_ejected_percent` is a share of them. */
  members(): readonly B[];
  /** True when `backend` takes traffic now: only such a backend is ejected. */
  serving(backend: B): boolean;
  /** True while `backend` sits out an ejection. */
  ejected(backend: B): boolean;
  /** Take `backend` out of traffic. */
  eject(backend: B): void;
  /** End an ejection: back to serving, when it is still ejected. */
  restore(backend: B): void;
}

/** What the detector keeps of one backend. */
export interface PassiveStatus {
  /** Failed requests in a row so far. */
  readonly consecutiveFailures: number;
  /** The ejection multiplier: how many times it was ejected, decayed while it behaves. */
  readonly ejections: number;
  /** When the current ejection ends, or the last one ended (clock of `now`); 0 before any. */
  readonly ejectedUntil: number;
}

/** Options for {@linkcode OutlierDetector}. */
export interface OutlierOptions<B> {
  readonly target: EjectionTarget<B>;
  /** Current passive config (changes on reload). */
  readonly config: () => PassiveConfig;
  /** Monotonic clock in ms. */
  readonly now: () => number;
  /** Called on each ejection (metrics). */
  readonly onEject?: (backend: B, durationMs: number) => void;
  /**
   * Where a backend that reached `consecutive_failures` goes, instead of being ejected here. A
   * worker isolate (`workers` > 1) counts failures in its own traffic but asks the isolate that
   * owns backend state to eject (lib/cluster/): one ejection, one `max_ejected_percent` and one
   * timer for the whole proxy. @default eject here
   */
  readonly decide?: (backend: B) => void;
}

interface History {
  consecutiveFailures: number;
  ejections: number;
  ejectedUntil: number;
}

const CLEAN: PassiveStatus = Object.freeze({ consecutiveFailures: 0, ejections: 0, ejectedUntil: 0 });

/**
 * Counts consecutive failures per backend and ejects and returns backends. The history is kept
 * per backend object and goes with it: a backend that leaves the pool takes its history along.
 */
export class OutlierDetector<B extends object> {
  #options: OutlierOptions<B>;
  #history = new WeakMap<B, History>();
  #timers = new Map<B, ReturnType<typeof setTimeout>>();

  constructor(options: OutlierOptions<B>) {
    this.#options = options;
  }

  /** The failure count and ejection history of `backend`. */
  status(backend: B): PassiveStatus {
    return this.#history.get(backend) ?? CLEAN;
  }

  /** Record the outcome of one attempt; `undefined` means a success. */
  record(backend: B, failure: AttemptOutcome | undefined): void {
    const config = this.#options.config();
    if (config.consecutiveFailures === 0) return;
    let h = this.#history.get(backend);
    if (failure === undefined || !matches(config.on, failure)) {
      if (h) h.consecutiveFailures = 0;
      return;
    }
    if (!h) this.#history.set(backend, h = { consecutiveFailures: 0, ejections: 0, ejectedUntil: 0 });
    h.consecutiveFailures++;
    if (!this.#options.target.serving(backend) || h.consecutiveFailures < config.consecutiveFailures) return;
    if (this.#options.decide) {
      h.consecutiveFailures = 0;
      this.#options.decide(backend);
    } else if (this.#mayEject(config)) this.#eject(backend, h, config);
  }

  /**
   * Eject `backend` now, as its own failures would: only while it is serving and
   * `max_ejected_percent` allows, for the time its ejection history gives. The isolate owning
   * backend state calls it for a worker's request (see `decide`).
   *
   * @returns true when it was ejected
   */
  eject(backend: B): boolean {
    const config = this.#options.config();
    if (config.consecutiveFailures === 0 || !this.#options.target.serving(backend)) return false;
    if (!this.#mayEject(config)) return false;
    let h = this.#history.get(backend);
    if (!h) this.#history.set(backend, h = { consecutiveFailures: 0, ejections: 0, ejectedUntil: 0 });
    this.#eject(backend, h, config);
    return true;
  }

  #mayEject(config: PassiveConfig): boolean {
    const { target } = this.#options;
    const all = target.members();
    const ejected = all.reduce((n, b) => n + (target.ejected(b) ? 1 : 0), 0);
    return ejected + 1 <= Math.floor(all.length * config.maxEjectedPercent / 100);
  }

  #eject(backend: B, h: History, config: PassiveConfig): void {
    const now = this.#options.now();
    if (h.ejections > 0) {
      const calm = Math.floor((now - h.ejectedUntil) / config.baseEjectionMs);
      h.ejections = Math.max(0, h.ejections - Math.max(0, calm));
    }
    h.ejections++;
    const ms = Math.min(config.baseEjectionMs * h.ejections, config.maxEjectionMs);
    h.ejectedUntil = now + ms;
    this.#options.target.eject(backend);
    h.consecutiveFailures = 0;
    this.#options.onEject?.(backend, ms);
    clearTimeout(this.#timers.get(backend));
    this.#timers.set(backend, setTimeout(() => this.#return(backend), ms));
  }

  #return(backend: B): void {
    this.#timers.delete(backend);
    this.#options.target.restore(backend);
  }

  /** Cancel every pending return (shutdown). */
  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
