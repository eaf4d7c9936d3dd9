/**
 * The forwarder's per-service state that outlives a request: each service's hedging policy
 * (budget and latency window) and its sticky-session cookies, built on first use and kept
 * across reloads (a reload applies new settings to them; their counts stay).
 *
 * Kept by the handler rather than the service, because only the forwarder uses them; a service
 * that is gone takes its entries with it (weak keys).
 *
 * @module
 */

import type { Backend } from "../pool/mod.ts";
import { trustedPeer } from "../net/mod.ts";
import type { ServerRequest } from "../listener/mod.ts";
import type { Service } from "../service/mod.ts";
import { HedgePolicy } from "./hedge.ts";
import { StickySessions } from "./sticky.ts";

/** Per-service hedging and sticky sessions, and the TLS test for the cookies' `Secure`. */
export class ForwarderFeatures {
  readonly #now: () => number;
  readonly #wallClock: () => number;
  readonly #hedging = new WeakMap<Service, HedgePolicy>();
  readonly #sticky = new WeakMap<Service, StickySessions<Backend>>();
  #trusted: { list: readonly string[]; test: (ip: string) => boolean } | undefined;

  /**
   * @param now monotonic clock in ms (hedge delays, budgets)
   * @param wallClock ms since the Unix epoch (cookie expiries, which replicas must agree on)
   */
  constructor(now: () => number, wallClock: () => number) {
    this.#now = now;
    this.#wallClock = wallClock;
  }

  /** The service's hedging policy, or undefined when its `hedging` is off. */
  hedging(svc: Service): HedgePolicy | undefined {
    const config = svc.config.hedging;
    if (!config) return undefined;
    let policy = this.#hedging.get(svc);
    if (!policy) this.#hedging.set(svc, policy = new HedgePolicy(config, this.#now));
    else policy.configure(config);
    return policy;
  }

  /** The service's sticky sessions, or undefined when its `sticky` is off. */
  sticky(svc: Service): StickySessions<Backend> | undefined {
    const config = svc.config.sticky;
    if (!config) return undefined;
    let sticky = this.#sticky.get(svc);
    if (sticky?.config !== config) {
      // Settings are a few strings; a reload that changed them starts a fresh id cache.
      const same = sticky && sticky.config.secret === config.secret &&
        sticky.config.cookie === config.cookie &&
        sticky.config.maxAgeMs === config.maxAgeMs;
      if (!same) this.#sticky.set(svc, sticky = new StickySessions(svc.name, config, this.#wallClock));
    }
    return sticky;
  }

  /**
   * The request reached the proxy over TLS: on the TLS listener, or through a proxy in
   * `trusted_proxies` that says so in `X-Forwarded-Proto` (its first value). Decides the sticky
   * cookie's `Secure`, so a cookie set over HTTPS is never sent back over plain HTTP.
   */
  secure(req: ServerRequest, trustedProxies: readonly string[]): boolean {
    if (req.secure) return true;
    if (trustedProxies.length === 0) return false;
    if (this.#trusted?.list !== trustedProxies) {
      this.#trusted = { list: trustedProxies, test: trustedPeer(trustedProxies) };
    }
    if (!this.#trusted.test(req.remoteAddr.hostname)) return false;
    const proto = req.headers.get("x-forwarded-proto");
    return proto !== null && proto.split(",")[0].trim().toLowerCase() === "https";
  }
}
