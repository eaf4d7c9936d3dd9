/**
 * Addresses: IP parsing and formatting, CIDR ranges, and the affinity key of hashing strategies
 * (client IP behind trusted proxies, a header or a cookie).
 *
 * @module
 */

export { parseCidr } from "./cidr.ts";
export { cookieValue, createHashKey, parseHashKeySpec } from "./hash_key.ts";
export type { HashKeyFunction, HeaderReader } from "./hash_key.ts";
export { hostMatches, normalizeHost, parseHostPattern } from "./host.ts";
export type { HostPattern } from "./host.ts";
export { isIpv4, parseIp } from "./ip_address.ts";
export type { IpAddress } from "./ip_address.ts";
export { trustedPeer } from "./trust.ts";
