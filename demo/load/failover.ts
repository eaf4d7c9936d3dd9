/**
 * Failover over a DNS round-robin name, as its clients do: the target URL's host is resolved to
 * every address it has (a Swarm service in `dnsrr` mode answers with one per task), the addresses
 * are taken in turn, and a request that fails at one is retried once at the next. That is how a
 * client survives one of several proxy replicas dying: the name stops listing it within a second
 * or two, and meanwhile the retry goes elsewhere.
 *
 * Only idempotent requests are retried (RFC 9110 section 9.2.2), only once, and only for what
 * says the replica, not the request, failed: no connection, a reset, no answer in time, or a
 * 502, 503 or 504 from it.
 *
 * @module
 */

/** Where the next request goes, and where it goes if that fails. */
export interface Targets {
  /** The next address's URL and, for a retry, the one after it (the same one when alone). */
  next(): readonly [string, string];
  /** Stop refreshing; resolves once a lookup in progress has ended. */
  close(): Promise<void>;
}

/** A name lookup: IPv4 addresses of a host name. */
export type Resolve = (host: string) => Promise<string[]>;

/** Methods a client may repeat (RFC 9110 section 9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
/** Answers that say the replica could not serve, whatever the request. */
const RETRY_STATUSES = new Set([502, 503, 504]);

/** True when a request with `method` may be sent again after a failure. */
export function retryable(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** True when a response with `status` is worth one more try at another address. */
export function retryStatus(status: number): boolean {
  return RETRY_STATUSES.has(status);
}

/**
 * Resolve `url`'s host now and every `refreshMs`, and hand out its addresses in turn. A literal
 * address is used as is. A failed refresh keeps the last answer; an empty one too (a name with no
 * address left would only turn every request into a connect error).
 *
 * @throws {Error} when the first lookup fails or finds no address
 * @example
 * ```ts
 * const targets = await resolveTargets("http://lb:8080/", 1_000);
 * const [first, retry] = targets.next(); // "http://10.0.3.5:8080/", "http://10.0.3.6:8080/"
 * targets.close();
 * ```
 */
export async function resolveTargets(
  url: string,
  refreshMs: number,
  resolve: Resolve = (host) => Deno.resolveDns(host, "A"),
): Promise<Targets> {
  const parsed = new URL(url);
  const host = parsed.hostname;
  const literal = /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith("[");
  const toUrl = (ip: string) => {
    const u = new URL(url);
    u.hostname = ip;
    return u.href;
  };
  let urls = literal ? [url] : (await resolve(host)).toSorted().map(toUrl);
  if (urls.length === 0) throw new Error(`Cannot use --failover: ${host} has no address`);
  let turn = 0;
  let lookup: Promise<void> = Promise.resolve();
  const timer = literal ? undefined : setInterval(() => {
    lookup = resolve(host).then((ips) => {
      if (ips.length > 0) urls = ips.toSorted().map(toUrl);
    }, () => {});
  }, refreshMs);
  return {
    next() {
      const i = turn++ % urls.length;
      return [urls[i], urls[(i + 1) % urls.length]];
    },
    async close() {
      clearInterval(timer);
      await lookup;
    },
  };
}
