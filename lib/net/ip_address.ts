/**
 * IP address parsing and canonical formatting, IPv4 and IPv6, without DNS.
 *
 * Every address is held as eight 16-bit groups; IPv4 `a.b.c.d` becomes the IPv4-mapped IPv6
 * address `::ffff:a.b.c.d`. One representation means one CIDR matcher, and a dual-stack socket
 * peer reported as `::ffff:1.2.3.4` matches IPv4 ranges and hashes like `1.2.3.4`.
 *
 * @module
 */

/** An IP address as eight 16-bit groups, network order. IPv4 is stored IPv4-mapped. */
export type IpAddress = Uint16Array;

const IPV4_PART = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parse an IPv4 or IPv6 address (an IPv6 zone such as `%eth0` is ignored).
 *
 * IPv4 parts must be decimal without leading zeros: `010.0.0.1` is rejected rather than guessed
 * at, because some stacks read it as octal.
 *
 * @returns the address, or undefined when `text` is not an IP address.
 * @example Usage
 * ```ts
 * import { formatIp, parseIp } from "./ip_address.ts";
 * formatIp(parseIp("::ffff:192.0.2.1")!); // "192.0.2.1"
 * ```
 */
export function parseIp(text: string): IpAddress | undefined {
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text, new Uint16Array(8), 6, true);
}

/** Whether `address` is IPv4 (stored in `::ffff:0:0/96`). */
export function isIpv4(address: IpAddress): boolean {
  return address[0] === 0 && address[1] === 0 && address[2] === 0 && address[3] === 0 &&
    address[4] === 0 && address[5] === 0xffff;
}

/**
 * Canonical text: dotted quad for IPv4 (and IPv4-mapped IPv6), RFC 5952 for IPv6 (lowercase,
 * the longest run of two or more zero groups as `::`), so one client has one hash key.
 *
 * @example Usage
 * ```ts
 * import { formatIp, parseIp } from "./ip_address.ts";
 * formatIp(parseIp("2001:DB8:0:0:0:0:0:1")!); // "2001:db8::1"
 * ```
 */
export function formatIp(address: IpAddress): string {
  if (isIpv4(address)) {
    return `${address[6] >> 8}.${address[6] & 0xff}.${address[7] >> 8}.${address[7] & 0xff}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (address[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && address[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    Array.from(address.subarray(from, to), (g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** Parse dotted IPv4 into `groups[at]` and `groups[at + 1]`; optionally mark it IPv4-mapped. */
function parseIpv4(text: string, groups: Uint16Array, at: number, mapped: boolean): Uint16Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    if (!IPV4_PART.test(parts[i])) return undefined;
    const value = Number(parts[i]);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  if (mapped) groups[5] = 0xffff;
  groups[at] = (bytes[0] << 8) | bytes[1];
  groups[at + 1] = (bytes[2] << 8) | bytes[3];
  return groups;
}

function parseIpv6(input: string): IpAddress | undefined {
  const zone = input.indexOf("%");
  const text = zone >= 0 ? input.slice(0, zone) : input;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 2 ? (halves[1] === "" ? [] : halves[1].split(":")) : [];
  const groups = new Uint16Array(8);
  // An embedded IPv4 address ends the text and stands for the last two groups.
  const last = halves.length === 2 ? tail : head;
  let ipv4Groups = 0;
  if (last.length > 0 && last[last.length - 1].includes(".")) {
    if (!parseIpv4(last.pop()!, groups, 6, false)) return undefined;
    ipv4Groups = 2;
  }
  const explicit = head.length + tail.length + ipv4Groups;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  for (let i = 0; i < head.length; i++) {
    if (!HEX_GROUP.test(head[i])) return undefined;
    groups[i] = parseInt(head[i], 16);
  }
  const tailStart = 8 - ipv4Groups - tail.length;
  for (let i = 0; i < tail.length; i++) {
    if (!HEX_GROUP.test(tail[i])) return undefined;
    groups[tailStart + i] = parseInt(tail[i], 16);
  }
  return groups;
}
