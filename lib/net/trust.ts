/**
 * Which socket peers are trusted proxies (`trusted_proxies`): the only peers whose
 * `X-Forwarded-*` headers the proxy believes.
 *
 * @module
 */

import { type Cidr, cidrContains, parseCidr } from "./cidr.ts";
import { type IpAddress, parseIp } from "./ip_address.ts";

/**
 * A membership test over `trusted_proxies` (CIDRs or single addresses).
 *
 * @throws {TypeError} when an entry is invalid; validate config with `parseCidr` first.
 * @example
 * ```ts
 * import { trustedAddresses } from "./trust.ts";
 * import { parseIp } from "./ip_address.ts";
 * trustedAddresses(["10.0.0.0/8"])(parseIp("10.1.2.3")!); // true
 * ```
 */
export function trustedAddresses(trustedProxies: readonly string[]): (address: IpAddress) => boolean {
  const trusted: Cidr[] = [];
  for (const text of trustedProxies) {
    const result = parseCidr(text);
    if (!result.ok) throw new TypeError(result.error);
    trusted.push(result.cidr);
  }
  return (address) => trusted.some((cidr) => cidrContains(cidr, address));
}

/**
 * A test of a socket peer's address text (`10.0.0.2`, `::ffff:10.0.0.2`) against
 * `trusted_proxies`; false for anything that is not an IP address.
 *
 * @example
 * ```ts
 * import { trustedPeer } from "./trust.ts";
 * trustedPeer(["127.0.0.0/8"])("127.0.0.1"); // true
 * trustedPeer([])("127.0.0.1"); // false
 * ```
 */
export function trustedPeer(trustedProxies: readonly string[]): (peerIp: string) => boolean {
  if (trustedProxies.length === 0) return () => false;
  const isTrusted = trustedAddresses(trustedProxies);
  return (peerIp) => {
    const address = parseIp(peerIp);
    return address !== undefined && isTrusted(address);
  };
}
