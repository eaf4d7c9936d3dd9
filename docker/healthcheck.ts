/**
 * Container health probe: `GET` a URL and exit 0 on a 2xx answer, 1 otherwise.
 *
 * The images carry no curl or wget; this runs on the Deno already in them, with network access to
 * loopback only.
 *
 * @example
 * ```sh
 * deno run --allow-net=127.0.0.1 docker/healthcheck.ts http://127.0.0.1:8081/healthz
 * ```
 *
 * @module
 */

/** What one probe found. */
export interface ProbeResult {
  readonly ok: boolean;
  /** The status line, or why there was none. */
  readonly detail: string;
}

/**
 * Fetch `url` once, bounded by `timeoutMs`.
 *
 * @example
 * ```ts
 * const { ok } = await probe("http://127.0.0.1:9001/health");
 * ```
 */
export async function probe(url: string, timeoutMs = 2_000): Promise<ProbeResult> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return { ok: response.ok, detail: `${response.status} ${response.statusText}`.trim() };
  } catch (error) {
    const { name, message, cause } = error as Error;
    if (name === "TimeoutError") return { ok: false, detail: `no answer within ${timeoutMs} ms` };
    // fetch() says only "fetch failed"; the cause names the refused connection.
    return { ok: false, detail: cause instanceof Error ? `${message}: ${cause.message}` : message };
  }
}

/** Probe `args[0]` and return the exit code. */
export async function main(args: string[] = Deno.args): Promise<number> {
  if (args.length !== 1 || !URL.canParse(args[0])) {
    console.error("usage: healthcheck.ts URL");
    return 2;
  }
  const result = await probe(args[0]);
  console.log(`${args[0]}: ${result.detail}`);
  return result.ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
