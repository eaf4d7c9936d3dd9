/**
 * Header field names as strings: common names are shared constants, so a head parsed per request
 * allocates no string for most of its names (RFC 9110 section 5.1: names are case-insensitive,
 * and are kept as sent).
 *
 * @module
 */

/**
 * Field names common enough to share one string each, in the spellings clients and servers send
 * (curl and browsers capitalise, HTTP/2-era clients use lower case). A head parsed per request
 * then allocates no string for most of its names, and their lower-case forms are constants too.
 */
const COMMON_NAMES = [
  "Accept",
  "Accept-Encoding",
  "Accept-Language",
  "Accept-Ranges",
  "Authorization",
  "Cache-Control",
  "Connection",
  "Content-Encoding",
  "Content-Length",
  "Content-Type",
  "Cookie",
  "Date",
  "ETag",
  "Expires",
  "Host",
  "Keep-Alive",
  "Last-Modified",
  "Location",
  "Origin",
  "Referer",
  "Server",
  "Set-Cookie",
  "Transfer-Encoding",
  "Upgrade",
  "User-Agent",
  "Vary",
  "X-Forwarded-For",
  "X-Request-Id",
].flatMap((n) => [n, n.toLowerCase()]).concat(["traceparent", "tracestate", "x-request-id"]);

/** {@linkcode COMMON_NAMES} by length. */
const NAMES_BY_LENGTH: readonly (readonly string[])[] = (() => {
  const out: string[][] = [];
  for (const n of new Set(COMMON_NAMES)) (out[n.length] ??= []).push(n);
  return out;
})();

/** The lower-case form of each common name. */
const LOWER_NAMES: ReadonlyMap<string, string> = new Map(COMMON_NAMES.map((n) => [n, n.toLowerCase()]));

/** The field name `s[start:end]`: a shared string when it is a common one, else a slice. */
export function fieldName(s: string, start: number, end: number): string {
  const n = end - start;
  const candidates = NAMES_BY_LENGTH[n];
  if (candidates !== undefined) {
    const first = s.charCodeAt(start);
    for (let k = 0; k < candidates.length; k++) {
      const c = candidates[k];
      if (c.charCodeAt(0) !== first) continue;
      let i = 1;
      while (i < n && c.charCodeAt(i) === s.charCodeAt(start + i)) i++;
      if (i === n) return c;
    }
  }
  return s.slice(start, end);
}

/** `name` in lower case; no new string for a common name (see {@linkcode fieldName}). */
export function lowerName(name: string): string {
  return LOWER_NAMES.get(name) ?? name.toLowerCase();
}
