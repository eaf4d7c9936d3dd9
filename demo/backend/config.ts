/**
 * Options of the demo backend, from flags and `BACKEND_*` environment variables.
 *
 * @module
 */

import {
  choiceFlag,
  durationFlag,
  type FlagSpec,
  numberFlag,
  type Parsed,
  readFlags,
} from "../shared/mod.ts";
import { type Distribution, DISTRIBUTIONS } from "./latency.ts";

/** Everything that shapes a demo backend. Every field has a default in {@linkcode BACKEND_DEFAULTS}. */
export interface BackendOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Address to listen on. */
  readonly host: string;
  /** Name reported in responses; defaults to `backend-<port>` once the port is known. */
  readonly name?: string;
  /** Typical latency per request in milliseconds. */
  readonly latencyMs: number;
  /** Spread around the latency in milliseconds (see {@linkcode Distribution}). */
  readonly jitterMs: number;
  /** Shape of the latency draw. */
  readonly distribution: Distribution;
  /** Busy CPU time per request in milliseconds: real work that container CPU stats see. */
  readonly cpuMs: number;
  /** Requests served at once; the rest wait in arrival order. Infinity means no limit. */
  readonly capacity: number;
  /** Share of requests answered with 500, 0..1. */
  readonly errorRate: number;
  /** Share of requests, 0..1, that take `tailMs` instead of a latency draw, each independently. */
  readonly tailRatio: number;
  /** Latency of those requests in milliseconds. */
  readonly tailMs: number;
  /** Seed for latency and error draws; random when absent. */
  readonly seed?: number;
}

/** Defaults: a fast, healthy, unlimited backend on port 9001 (the first one in config.yml) on every interface. */
export const BACKEND_DEFAULTS: BackendOptions = {
  port: 9001,
  host: "0.0.0.0",
  latencyMs: 0,
  jitterMs: 0,
  distribution: "fixed",
  cpuMs: 0,
  capacity: Infinity,
  errorRate: 0,
  tailRatio: 0,
  tailMs: 1_000,
};

/** Accepted flags; each single-valued one also reads `BACKEND_<NAME>` (e.g. `BACKEND_ERROR_RATE`). */
export const BACKEND_FLAGS: FlagSpec = {
  port: { type: "string" },
  host: { type: "string" },
  name: { type: "string" },
  latency: { type: "string" },
  jitter: { type: "string" },
  distribution: { type: "string" },
  cpu: { type: "string" },
  capacity: { type: "string" },
  "error-rate": { type: "string" },
  "tail-ratio": { type: "string" },
  "tail-latency": { type: "string" },
  seed: { type: "string" },
  help: { type: "boolean" },
};

/** Usage text for `--help`. */
export const BACKEND_USAGE = `Usage: deno task backend [flags]

  --port N            listen port, 0 = any free one (BACKEND_PORT, default 9001)
  --host ADDR         listen address (BACKEND_HOST, default 0.0.0.0)
  --name NAME         name reported in responses (BACKEND_NAME, default backend-<port>)
  --latency D         typical latency, e.g. 20ms (BACKEND_LATENCY, default 0s)
  --jitter D          spread: uniform half-width for fixed, std dev otherwise (BACKEND_JITTER)
  --distribution S    fixed | normal | lognormal (BACKEND_DISTRIBUTION, default fixed)
  --cpu D             busy CPU time per request, e.g. 2ms (BACKEND_CPU, default 0s)
  --capacity N        requests served at once, the rest queue (BACKEND_CAPACITY, default unlimited)
  --error-rate R      share of requests answered 500, 0..1 (BACKEND_ERROR_RATE, default 0)
  --tail-ratio R      share of requests that take --tail-latency instead, each independently, 0..1
                      (BACKEND_TAIL_RATIO, default 0)
  --tail-latency D    latency of those requests (BACKEND_TAIL_LATENCY, default 1s)
  --seed N            seed for latency and error draws (BACKEND_SEED, default random)

Endpoints (/, /echo and /bytes pay the latency, CPU, capacity and error costs; the rest do not):
  GET  /                 {"backend", "port", "hostname", "timestamp", "latency_ms"}
  ANY  /echo             method, path, query, headers and body back as JSON (body up to 1 MiB)
  GET  /bytes?n=N        N bytes streamed in 16 KiB chunks (N up to 64 MiB)
  GET  /health           200, or 503 after POST /admin/health {"healthy": false}
  GET  /ws               WebSocket echo: every message back as it came (426 without an upgrade)
  POST /admin/health     {"healthy": true|false}
  POST /admin/pause      {"duration": "500ms"}: hold every unsent response that long
  GET|POST /admin/profile  read or change {"latency", "jitter", "distribution", "cpu", "error_rate",
                         "tail_ratio", "tail_latency"}
`;

/**
 * Parse backend flags, falling back to `BACKEND_*` variables and then to the defaults.
 *
 * @param args Command-line arguments.
 * @param env Variable lookup, e.g. `(n) => Deno.env.get(n)`.
 * @returns The options, `"help"` when `--help` was given, or every problem found.
 *
 * @example Usage
 * ```ts
 * import { parseBackendArgs } from "./config.ts";
 * const parsed = parseBackendArgs(["--latency", "20ms", "--capacity", "4"], () => undefined);
 * if (parsed.ok && parsed.value !== "help") parsed.value.capacity; // 4
 * ```
 */
export function parseBackendArgs(
  args: string[],
  env: (name: string) => string | undefined,
): Parsed<BackendOptions | "help"> {
  const flags = readFlags(args, BACKEND_FLAGS, env, "BACKEND");
  if (!flags.ok) return flags;
  const raw = flags.value;
  if (raw.help) return { ok: true, value: "help" };
  const errors: string[] = [];
  const d = BACKEND_DEFAULTS;
  const capacityText = raw.capacity;
  const options: BackendOptions = {
    port: numberFlag("port", raw.port, d.port, errors, { min: 0, max: 65535, integer: true }),
    host: typeof raw.host === "string" ? raw.host : d.host,
    name: typeof raw.name === "string" && raw.name !== "" ? raw.name : undefined,
    latencyMs: durationFlag("latency", raw.latency, d.latencyMs, errors),
    jitterMs: durationFlag("jitter", raw.jitter, d.jitterMs, errors),
    distribution: choiceFlag("distribution", raw.distribution, DISTRIBUTIONS, d.distribution, errors),
    cpuMs: durationFlag("cpu", raw.cpu, d.cpuMs, errors),
    capacity: capacityText === "unlimited"
      ? Infinity
      : numberFlag("capacity", capacityText, d.capacity, errors, { min: 1, integer: true }),
    errorRate: numberFlag("error-rate", raw["error-rate"], d.errorRate, errors, { min: 0, max: 1 }),
    tailRatio: numberFlag("tail-ratio", raw["tail-ratio"], d.tailRatio, errors, { min: 0, max: 1 }),
    tailMs: durationFlag("tail-latency", raw["tail-latency"], d.tailMs, errors),
    seed: raw.seed === undefined
      ? undefined
      : numberFlag("seed", raw.seed, 0, errors, { min: 0, max: 2 ** 32 - 1, integer: true }),
  };
  return errors.length ? { ok: false, errors } : { ok: true, value: options };
}
