/**
 * Sticky sessions: a signed cookie names the backend a client keeps going to.
 *
 * The cookie never carries the backend's address or name, only an opaque id:
 * `<id>.<expires>.<signature>`, where
 *
 * - `id` is HMAC-SHA256(secret, service, backend name), truncated to 72 bits (12 base64url
 *   characters): stable for a backend, the same on every replica with the same secret and config,
 *   and meaningless without the secret;
 * - `expires` is the Unix time in seconds when the cookie stops counting (now + `max_age`);
 * - `signature` is HMAC-SHA256(secret, service, id, expires), truncated to 132 bits (22
 *   characters), compared in constant time.
 *
 * So a forged cookie (any id or expiry without the secret) and a stale one (its expiry passed,
 * whatever the browser kept) are ignored, and a cookie of one service means nothing to another.
 * A valid cookie whose backend left the pool, or cannot serve (unhealthy, ejected, draining), is
 * ignored too: the strategy picks, and the response carries a new cookie, as Traefik and Envoy
 * do. A healthy backend that is only at `max_connections` keeps its sessions: the request goes
 * elsewhere this time and the cookie stays. Cookies are re-issued when past half their life, so an
 * active session does not expire while an idle one does.
 *
 * The cookie is forwarded to the backend unchanged, as Traefik and Envoy forward theirs (HAProxy's
 * `cookie ... indirect` strips it): it is opaque, and removing it would rewrite every request's
 * `Cookie` header.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import type { StickyConfig } from "../config/mod.ts";
import { cookieValue, type HeaderReader } from "../net/mod.ts";

/** A backend as the cookie sees it: a name, and whether it can take a session's request. */
export interface StickyBackend {
  readonly name: string;
}

/** The members of a pool, by name (the pool's own lookup). */
export interface StickyMembers<B extends StickyBackend> {
  all(): readonly B[];
  get(name: string): B | undefined;
}

/** What a request's cookie says. */
export interface StickyChoice<B> {
  /** The valid cookie's backend, when it is still a member; the caller checks it can serve. */
  readonly backend: B | undefined;
  /** The response should set a new cookie: none, invalid or expired, or past half its life. */
  readonly issue: boolean;
}

const ID_CHARS = 12;
const SIGNATURE_CHARS = 22;
const COOKIE = /^([A-Za-z0-9_-]{12})\.(\d{1,12})\.([A-Za-z0-9_-]{22})$/;

/**
 * One service's sticky cookies: encoding, verification and the backend a cookie names.
 *
 * @example
 * ```ts
 * import { StickySessions } from "./sticky.ts";
 * const sticky = new StickySessions("web", { cookie: "lb_sticky", secret: "s3cret", maxAgeMs: 3_600_000 });
 * const value = sticky.encode({ name: "b1" });
 * sticky.verify(value) === sticky.idOf({ name: "b1" }); // true
 * const [id, expires, signature] = value.split(".");
 * sticky.verify(`${id}.${Number(expires) + 3600}.${signature}`); // undefined: a forged expiry
 * ```
 */
export class StickySessions<B extends StickyBackend = StickyBackend> {
  readonly config: StickyConfig;
  readonly #service: string;
  readonly #clock: () => number;
  readonly #ids = new Map<string, string>();
  #byId = new Map<string, B>();
  #builtFrom: readonly B[] | undefined;
  #builtLength = -1;

  /**
   * @param service the service's name, bound into every id and signature
   * @param config `sticky`
   * @param clock wall clock in ms since the Unix epoch (expiries must agree across replicas)
   */
  constructor(service: string, config: StickyConfig, clock: () => number = Date.now) {
    this.#service = service;
    this.config = config;
    this.#clock = clock;
  }

  #mac(label: string, data: string): string {
    return createHmac("sha256", this.config.secret).update(`${label}\0${this.#service}\0${data}`)
      .digest("base64url");
  }

  /** The backend's opaque id (cached per name). */
  idOf(backend: StickyBackend): string {
    let id = this.#ids.get(backend.name);
    if (id === undefined) {
      id = this.#mac("lb-sticky-id", backend.name).slice(0, ID_CHARS);
      this.#ids.set(backend.name, id);
    }
    return id;
  }

  /** A cookie value naming `backend`, valid for `max_age` from now. */
  encode(backend: StickyBackend): string {
    const id = this.idOf(backend);
    const expires = Math.floor((this.#clock() + this.config.maxAgeMs) / 1000);
    return `${id}.${expires}.${this.#mac("lb-sticky-sig", `${id}.${expires}`).slice(0, SIGNATURE_CHARS)}`;
  }

  /** The `Set-Cookie` value naming `backend`; `secure` adds `Secure` (the request came over TLS). */
  setCookie(backend: StickyBackend, secure: boolean): string {
    const maxAge = Math.floor(this.config.maxAgeMs / 1000);
    return `${this.config.cookie}=${this.encode(backend)}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${
      secure ? "; Secure" : ""
    }`;
  }

  /**
   * The id a cookie value names when its signature is right and it has not expired; undefined for
   * anything else. `remaining` receives the time in ms it has left.
   */
  verify(value: string, remaining?: (ms: number) => void): string | undefined {
    const m = COOKIE.exec(value);
    if (!m) return undefined;
    const [, id, expires, signature] = m;
    const expected = this.#mac("lb-sticky-sig", `${id}.${expires}`).slice(0, SIGNATURE_CHARS);
    if (!timingSafeEqual(new TextEncoder().encode(expected), new TextEncoder().encode(signature))) {
      return undefined;
    }
    const left = Number(expires) * 1000 - this.#clock();
    if (left <= 0) return undefined;
    remaining?.(left);
    return id;
  }

  /** What the request's `Cookie` header says about its backend among `members`. */
  choose(headers: HeaderReader, members: StickyMembers<B>): StickyChoice<B> {
    const value = cookieValue(headers.get("cookie"), this.config.cookie);
    if (value === undefined) return NONE;
    let left = 0;
    const id = this.verify(value, (ms) => left = ms);
    if (id === undefined) return NONE;
    const backend = this.#member(id, members);
    return { backend, issue: backend === undefined || left < this.config.maxAgeMs / 2 };
  }

  /**
   * The member with this id. The id map is rebuilt only on a miss after membership changed, so a
   * cookie of a backend that left costs one rebuild, not one per request.
   */
  #member(id: string, members: StickyMembers<B>): B | undefined {
    const known = this.#byId.get(id);
    if (known && members.get(known.name) === known) return known;
    const all = members.all();
    if (all !== this.#builtFrom || all.length !== this.#builtLength) {
      // Ids of backends that left are dropped with them (discovery can churn names for ever).
      const ids = new Map(all.map((b) => [b.name, this.idOf(b)]));
      this.#ids.clear();
      for (const [name, backendId] of ids) this.#ids.set(name, backendId);
      this.#byId = new Map(all.map((b) => [ids.get(b.name)!, b]));
      this.#builtFrom = all;
      this.#builtLength = all.length;
    }
    const found = this.#byId.get(id);
    return found && members.get(found.name) === found ? found : undefined;
  }
}

const NONE: StickyChoice<never> = Object.freeze({ backend: undefined, issue: true });
