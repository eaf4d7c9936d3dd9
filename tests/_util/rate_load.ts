/**
 * A steady-rate HTTP load generator for acceptance tests: bounded in duration and count, and
 * recording every failure with its time so a test can say exactly what a client would have seen.
 *
 * @module
 */

/** One failed request: a non-2xx status or a transport error. */
export interface LoadFailure {
  /** Milliseconds since the load started. */
  readonly at: number;
  readonly what: string;
}

/** Result of {@linkcode runLoad}. */
export interface LoadResult {
  readonly sent: number;
  readonly ok: number;
  readonly failures: LoadFailure[];
  /** Per `x-lb-backend` header (when exposed), how many answers it gave. */
  readonly byBackend: Map<string, number>;
}

/** Options for {@linkcode runLoad}. */
export interface LoadOptions {
  /** Requests per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** Called every tick with the elapsed milliseconds, to script events during the load. */
  readonly onTick?: (elapsedMs: number) => void | Promise<void>;
  /** Path to request. @default "/" */
  readonly path?: string;
}

/**
 * Send GET requests at a steady rate for a bounded time (10 ms ticks), wait for every answer
 * (each bounded by a 10 s timeout) and report.
 */
export async function runLoad(baseUrl: string, options: LoadOptions): Promise<LoadResult> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 64 });
  const failures: LoadFailure[] = [];
  const byBackend = new Map<string, number>();
  const pending: Promise<void>[] = [];
  let ok = 0;
  const started = performance.now();
  const tickMs = 10;
  let sent = 0;
  const one = async () => {
    const at = performance.now() - started;
    try {
      const r = await fetch(`${baseUrl}${options.path ?? "/"}`, {
        client,
        signal: AbortSignal.timeout(10_000),
      });
      const body = await r.text();
      const backend = r.headers.get("x-lb-backend");
      if (backend) byBackend.set(backend, (byBackend.get(backend) ?? 0) + 1);
      if (r.status >= 200 && r.status < 300) ok++;
      else {failures.push({
          at,
          what: `status ${r.status} from ${backend ?? "the proxy"}: ${body.slice(0, 80)}`,
        });}
    } catch (e) {
      failures.push({ at, what: (e as Error).message });
    }
  };
  while (true) {
    const elapsed = performance.now() - started;
    if (elapsed >= options.durationMs) break;
    await options.onTick?.(elapsed);
    const due = Math.min(
      Math.floor((elapsed / 1000) * options.rate),
      Math.ceil(options.durationMs / 1000 * options.rate),
    );
    while (sent < due) {
      pending.push(one());
      sent++;
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await Promise.all(pending);
  client.close();
  return { sent, ok, failures, byBackend };
}
