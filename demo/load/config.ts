/**
 * Options of the load generator, from flags and `LOAD_*` environment variables.
 *
 * The first four flags are the Go demo client's (`--url --clients --duration --rate`), so its
 * invocations keep working.
 *
 * @module
 */

import { durationFlag, type FlagSpec, numberFlag, type Parsed, readFlags } from "../shared/mod.ts";

/** What load to send where. */
export interface LoadOptions {
  /** Target URL. */
  readonly url: string;
  /** Independent clients, each with its own schedule and X-Forwarded-For address. */
  readonly clients: number;
  /** Length of the sending window in milliseconds (Infinity: until `requests` are sent). */
  readonly durationMs: number;
  /** Requests per second per client. */
  readonly rate: number;
  /** Cap on requests over all clients; undefined for none. */
  readonly requests?: number;
  /** Per-request timeout in milliseconds, counted from sending. */
  readonly timeoutMs: number;
  /** HTTP method. */
  readonly method: string;
  /** Extra request headers. */
  readonly headers: readonly (readonly [string, string])[];
  /** Request body, if any. */
  readonly body?: string;
  /** Seed for addresses and schedule phases; random when absent. */
  readonly seed?: number;
  /** Requests a client keeps in flight at most; later ones wait, their latency still counting. */
  readonly maxInFlight: number;
  /** Print the summary as JSON. */
  readonly json: boolean;
  /** Exit 1 when the error rate exceeds this ratio; undefined never fails. */
  readonly maxErrors?: number;
  /** Header carrying each client's own address (`X-Forwarded-For`, or an affinity key header). */
  readonly clientHeader: string;
  /** Resolve the URL's host to all its addresses, take them in turn and retry once at the next. */
  readonly failover: boolean;
  /** With `failover`: the longest one attempt may take before the retry. */
  readonly attemptTimeoutMs: number;
}

/** Defaults: ten clients at ten requests per second each for ten seconds. */
export const LOAD_DEFAULTS: Omit<LoadOptions, "url"> = {
  clients: 10,
  durationMs: 10_000,
  rate: 10,
  timeoutMs: 10_000,
  method: "GET",
  headers: [],
  maxInFlight: 64,
  json: false,
  clientHeader: "x-forwarded-for",
  failover: false,
  attemptTimeoutMs: 2_000,
};

/** Accepted flags; each single-valued one also reads `LOAD_<NAME>` (e.g. `LOAD_MAX_ERRORS`). */
export const LOAD_FLAGS: FlagSpec = {
  url: { type: "string" },
  clients: { type: "string" },
  duration: { type: "string" },
  rate: { type: "string" },
  requests: { type: "string" },
  timeout: { type: "string" },
  method: { type: "string" },
  header: { type: "string", multiple: true },
  body: { type: "string" },
  seed: { type: "string" },
  "max-inflight": { type: "string" },
  json: { type: "boolean" },
  "max-errors": { type: "string" },
  "client-header": { type: "string" },
  failover: { type: "boolean" },
  "attempt-timeout": { type: "string" },
  help: { type: "boolean" },
};

/** Usage text for `--help`. */
export const LOAD_USAGE = `Usage: deno task load --url URL [flags]

Open-loop load: every request is sent at its scheduled time whatever happened to earlier ones,
and latency counts from that time, so a stalled target shows up in the percentiles.

  --url URL           target (LOAD_URL, required)
  --clients N         clients, each with its own X-Forwarded-For in 203.0.113.0/24 (default 10)
  --duration D        sending window, e.g. 30s or 1m (default 10s; unlimited with --requests only)
  --rate R            requests per second per client (default 10)
  --requests N        stop after N requests over all clients
  --timeout D         per-request timeout (default 10s)
  --method M          HTTP method (default GET)
  --header 'K: V'     extra header, repeatable
  --body TEXT         request body
  --seed N            seed for addresses and schedule (default random, printed)
  --max-inflight N    requests in flight per client at most (default 64)
  --json              print the summary as JSON
  --max-errors R      exit 1 when the error rate exceeds R, 0..1
  --client-header H   header carrying each client's address (default X-Forwarded-For); e.g.
                      the proxy's hash.key header, so ip_hash spreads the clients
  --failover          resolve the URL's host to all its addresses (again every second), send to
                      them in turn, and retry an idempotent request that fails to connect, is
                      reset, times out or gets 502/503/504 once at the next address, as a
                      client of a DNS round-robin service does; the summary counts the retries
  --attempt-timeout D with --failover: the longest one attempt may take (default 2s)
`;

/**
 * Parse load generator flags, falling back to `LOAD_*` variables and then to the defaults.
 *
 * @param args Command-line arguments.
 * @param env Variable lookup, e.g. `(n) => Deno.env.get(n)`.
 * @returns The options, `"help"` when `--help` was given, or every problem found.
 */
export function parseLoadArgs(
  args: string[],
  env: (name: string) => string | undefined,
): Parsed<LoadOptions | "help"> {
  const flags = readFlags(args, LOAD_FLAGS, env, "LOAD");
  if (!flags.ok) return flags;
  const raw = flags.value;
  if (raw.help) return { ok: true, value: "help" };
  const errors: string[] = [];
  const d = LOAD_DEFAULTS;
  const url = typeof raw.url === "string" ? raw.url : "";
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    errors.push(`Cannot use --url: expected an http(s) URL, got "${url}"`);
  }
  const requests = raw.requests === undefined
    ? undefined
    : numberFlag("requests", raw.requests, 0, errors, { min: 1, integer: true });
  // With only a request count, the run lasts as long as the count needs.
  const durationFallback = requests !== undefined && raw.duration === undefined ? Infinity : d.durationMs;
  const headers: [string, string][] = [];
  for (const line of (raw.header ?? []) as string[]) {
    const colon = line.indexOf(":");
    if (colon <= 0) errors.push(`Cannot use --header: expected "Name: value", got "${line}"`);
    else headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  const options: LoadOptions = {
    url,
    clients: numberFlag("clients", raw.clients, d.clients, errors, { min: 1, max: 10_000, integer: true }),
    durationMs: durationFlag("duration", raw.duration, durationFallback, errors),
    rate: numberFlag("rate", raw.rate, d.rate, errors, { min: 0.001, max: 100_000 }),
    requests,
    timeoutMs: durationFlag("timeout", raw.timeout, d.timeoutMs, errors),
    method: typeof raw.method === "string" ? raw.method.toUpperCase() : d.method,
    headers,
    body: typeof raw.body === "string" ? raw.body : undefined,
    seed: raw.seed === undefined
      ? undefined
      : numberFlag("seed", raw.seed, 0, errors, { min: 0, max: 2 ** 32 - 1, integer: true }),
    maxInFlight: numberFlag("max-inflight", raw["max-inflight"], d.maxInFlight, errors, {
      min: 1,
      integer: true,
    }),
    json: raw.json === true,
    maxErrors: raw["max-errors"] === undefined
      ? undefined
      : numberFlag("max-errors", raw["max-errors"], 0, errors, { min: 0, max: 1 }),
    clientHeader: typeof raw["client-header"] === "string"
      ? raw["client-header"].toLowerCase()
      : d.clientHeader,
    failover: raw.failover === true,
    attemptTimeoutMs: durationFlag("attempt-timeout", raw["attempt-timeout"], d.attemptTimeoutMs, errors),
  };
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(options.clientHeader)) {
    errors.push(`Cannot use --client-header: expected a header name, got "${raw["client-header"]}"`);
  }
  if (options.attemptTimeoutMs <= 0) errors.push("Cannot use --attempt-timeout: it must be longer than 0s");
  if (options.timeoutMs <= 0) errors.push("Cannot use --timeout: it must be longer than 0s");
  return errors.length ? { ok: false, errors } : { ok: true, value: options };
}
