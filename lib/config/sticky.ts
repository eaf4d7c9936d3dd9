/**
 * Config section `sticky`: session affinity by a signed cookie that names the client's backend.
 *
 * Off unless set; `sticky: false` turns off, in a service, what the top level turned on. The
 * secret is required and may not be empty: a cookie signed with a known or empty key could be
 * forged to pick any backend. A service's keys left out keep the top level's values.
 *
 * @module
 */

import type { Node } from "yaml";
import { parseDuration } from "./duration.ts";
import { readSwitchable } from "./fields.ts";
import type { Reader } from "./reader.ts";
import type { StickyConfig } from "./types.ts";

/** Cookie name when `sticky.cookie` is not given. */
export const STICKY_COOKIE = "lb_sticky";
/** Cookie lifetime when `sticky.max_age` is not given: one hour. */
const MAX_AGE_MS = 3_600_000;
/** Longest `max_age`: a year (8760h). */
const MAX_MAX_AGE_MS = 8_760 * 3_600_000;

/** RFC 6265 section 4.1.1: a cookie name is an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/** Read `sticky.max_age`: a duration from 1s to 8760h (whole seconds, as `Max-Age` counts). */
function readMaxAge(r: Reader, node: Node | undefined, path: string): number | undefined {
  const s = r.scalar(node, path);
  if (!s) return undefined;
  const ms = typeof s.value === "string" ? parseDuration(s.value) : undefined;
  if (ms === undefined || ms < 1_000 || ms > MAX_MAX_AGE_MS) {
    r.fail(
      s.node,
      path,
      `must be a duration from 1s to 8760h like 30m or 1h, got ${JSON.stringify(s.value)}`,
    );
    return undefined;
  }
  return Math.floor(ms / 1_000) * 1_000;
}

/**
 * Read `sticky`; absent keeps `base` (off, or for a service the top level's). `false` is off.
 * `at` prefixes field paths in messages (`services.api.`).
 *
 * @example
 * ```yaml
 * sticky: {cookie: lb_sticky, secret: "${LB_STICKY_SECRET}", max_age: 1h}
 * ```
 */
export function readSticky(
  r: Reader,
  node: Node | undefined,
  base: StickyConfig | null,
  at = "",
): StickyConfig | null | undefined {
  if (node === undefined) return base;
  const path = `${at}sticky`;
  const m = readSwitchable(r, node, path, ["cookie", "secret", "max_age"], '{secret: "${LB_STICKY_SECRET}"}');
  if (!m) return m;
  let cookie = m.has("cookie") ? r.string(m.get("cookie"), `${path}.cookie`) : base?.cookie ?? STICKY_COOKIE;
  if (cookie !== undefined && !TOKEN.test(cookie)) {
    r.fail(
      r.nodeOf(m.get("cookie")),
      `${path}.cookie`,
      `must be a cookie name (1-64 letters, digits and !#$%&'*+-.^_\`|~), got ${JSON.stringify(cookie)}`,
    );
    cookie = undefined;
  }
  let secret = m.has("secret") ? r.string(m.get("secret"), `${path}.secret`) : base?.secret;
  if (secret === "" || (secret === undefined && !m.has("secret"))) {
    r.fail(
      r.nodeOf(m.get("secret") ?? node),
      `${path}.secret`,
      `${
        secret === "" ? "must not be empty" : "is required"
      }: the key that signs the cookies, e.g. "\${LB_STICKY_SECRET}"`,
    );
    secret = undefined;
  }
  const maxAgeMs = m.has("max_age")
    ? readMaxAge(r, m.get("max_age"), `${path}.max_age`)
    : base?.maxAgeMs ?? MAX_AGE_MS;
  if (cookie === undefined || secret === undefined || maxAgeMs === undefined) return undefined;
  return { cookie, secret, maxAgeMs };
}
