/**
 * A bounded steady load generator for tests: a few concurrent clients looping over `fetch`,
 * stopped by a request count, a time limit or a signal, whichever comes first.
 *
 * @module
 */

/** Resolve after `ms` milliseconds (slow backends, pauses between phases). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a load run saw. */
export interface LoadResult {
  /** Responses by status code. */
  readonly statuses: Map<number, number>;
  /** Requests that got no response at all (connection refused, reset, ...), with their messages. */
  readonly failures: string[];
  /** Responses whose body did not end cleanly. */
  readonly truncated: number;
  readonly sent: number;
}

/** Options for {@linkcode steadyLoad}. */
export interface LoadOptions {
  /** Concurrent clients. @default 4 */
  concurrency?: number;
  /** Hard cap on requests. */
  maxRequests: number;
  /** Hard cap on duration in ms. */
  maxMs: number;
  /** Pause between one client's requests in ms. @default 0 */
  pauseMs?: number;
  /** Stop early. */
  signal?: AbortSignal;
  /** Path and query to request. @default "/" */
  path?: () => string;
  /** Headers of each request (an affinity key, say). @default none */
  headers?: () => HeadersInit;
}

/** Run the load against `baseUrl` until a bound is hit; every body is read to the end. */
export async function steadyLoad(baseUrl: string, options: LoadOptions): Promise<LoadResult> {
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  let truncated = 0;
  let sent = 0;
  const deadline = performance.now() + options.maxMs;
  const more = () => sent < options.maxRequests && performance.now() < deadline && !options.signal?.aborted;
  const client = async () => {
    while (more()) {
      sent++;
      try {
        const r = await fetch(baseUrl + (options.path?.() ?? "/"), { headers: options.headers?.() });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        try {
          await r.arrayBuffer();
        } catch {
          truncated++;
        }
      } catch (e) {
        failures.push((e as Error).message);
      }
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, client));
  return { statuses, failures, truncated, sent };
}
