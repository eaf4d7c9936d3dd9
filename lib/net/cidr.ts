/**
 * CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`, or a bare address meaning one host), parsed into
 * values that say what was wrong, and matched against {@linkcode IpAddress}es.
 *
 * IPv4 ranges are stored IPv4-mapped (prefix + 96), so an IPv4-mapped IPv6 peer such as
 * `::ffff:10.1.2.3` is inside `10.0.0.0/8`. Host bits below the prefix are ignored
 * (`10.1.2.3/8` is `10.0.0.0/8`), as nginx and most firewalls do.
 *
 * @module
 */

import { formatIp, type IpAddress, isIpv4, parseIp } from "./ip_address.ts";

/** A parsed CIDR range. */
export interface Cidr {
  /** Network address with host bits cleared. */
  readonly network: IpAddress;
  /** Prefix length over the 128-bit (IPv4-mapped) address. */
  readonly bits: number;
  /** Canonical text, e.g. `10.0.0.0/8`. */
  readonly text: string;
}

/** Result of {@linkcode parseCidr}: the range, or a message naming the input and the problem. */
export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; error: string };

/**
 * Parse `address/prefix` or a bare address (a single host).
 *
 * @example Usage
 * ```ts
 * import { parseCidr } from "./cidr.ts";
 * parseCidr("10.0.0.0/8"); // { ok: true, cidr: { bits: 104, text: "10.0.0.0/8", ... } }
 * parseCidr("10.0.0.0/33"); // { ok: false, error: 'Cannot parse CIDR "10.0.0.0/33": ...' }
 * ```
 */
export function parseCidr(text: string): CidrResult {
  const fail = (why: string): CidrResult => ({ ok: false, error: `Cannot parse CIDR "${text}": ${why}` });
  const slash = text.indexOf("/");
  const addressText = (slash < 0 ? text : text.slice(0, slash)).trim();
  const address = parseIp(addressText);
  if (address === undefined) return fail(`"${addressText}" is not an IPv4 or IPv6 address`);
  // `::ffff:10.0.0.0/104` is written in IPv6 terms; only dotted text takes an IPv4 prefix.
  const v4 = !addressText.includes(":");
  const max = v4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1).trim();
    if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > max) {
      return fail(`prefix length must be an integer from 0 to ${max}, got "${prefixText}"`);
    }
    prefix = Number(prefixText);
  }
  const bits = v4 ? prefix + 96 : prefix;
  const network = address.slice();
  for (let i = 0; i < 8; i++) network[i] &= groupMask(bits, i);
  const shown = v4 || !isIpv4(network)
    ? `${formatIp(network)}/${prefix}`
    : `::ffff:${formatIp(network)}/${prefix}`;
  return { ok: true, cidr: { network, bits, text: shown } };
}

/**
 * Whether `address` lies inside `cidr`.
 *
 * @example Usage
 * ```ts
 * import { cidrContains, parseCidr } from "./cidr.ts";
 * import { parseIp } from "./ip_address.ts";
 * const result = parseCidr("10.0.0.0/8");
 * result.ok && cidrContains(result.cidr, parseIp("::ffff:10.9.8.7")!); // true
 * ```
 */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  const { network, bits } = cidr;
  for (let i = 0; i < 8 && 16 * i < bits; i++) {
    if ((address[i] & groupMask(bits, i)) !== network[i]) return false;
  }
  return true;
}

/** Mask of the bits of 16-bit group `i` that lie within a `bits`-long prefix. */
function groupMask(bits: number, i: number): number {
  const keep = Math.min(16, Math.max(0, bits - 16 * i));
  return keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
}
