/**
 * Counting and latency recording for a load run, and the summary built from them.
 *
 * Latencies go into an HDR histogram (microseconds, three significant digits): percentiles stay
 * exact to 0.1% at any count with fixed memory, unlike a window of samples where "p99 of the last
 * 100" is just the maximum.
 *
 * @module
 */

import * as hdr from "hdr-histogram-js";
import { ERROR_KINDS, type ErrorKind } from "./errors.ts";

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Counts and latencies so far; see {@linkcode createRecorder}. */
export interface Counts {
  /** Requests sent. */
  readonly sent: number;
  /** Responses received in full (any status). */
  readonly completed: number;
  /** Requests that ended in an error instead of a response. */
  readonly failed: number;
  /** Responses with status 500 and above. */
  readonly serverErrors: number;
  /** Requests cut short because the run was aborted: neither success nor failure. */
  readonly cancelled: number;
  /** Response count per status code. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Failures per kind. */
  readonly errors: Readonly<Record<ErrorKind, number>>;
  /** Responses per backend, from `X-LB-Backend` or the JSON body's `backend`. */
  readonly backends: Readonly<Record<string, number>>;
  /** Latency of completed responses, from their scheduled time; undefined before the first. */
  readonly latencyMs: LatencySummary | undefined;
  /** With `--failover`: requests retried at another address, and how many of them then succeeded. */
  readonly retries: {
    readonly total: number;
    readonly recovered: number;
    /** Why the first attempt failed: an error kind or a status (`"503"`). */
    readonly reasons: Readonly<Record<string, number>>;
  };
  /** With `--failover`: responses per target address (`host:port`). */
  readonly addresses: Readonly<Record<string, number>>;
}

/** Collects the outcome of every request of a run. */
export interface Recorder {
  /** A request went out. */
  sent(): void;
  /** A full response arrived `latencyMs` after its scheduled time. */
  response(status: number, latencyMs: number, backend: string | undefined): void;
  /** A request failed. */
  failure(kind: ErrorKind): void;
  /** A request was abandoned because the run was aborted. */
  cancelled(): void;
  /** A request's first attempt failed for `reason` and it was sent again elsewhere. */
  retried(reason: string): void;
  /** A retried request then got a good answer. */
  recovered(): void;
  /** A response came from `address` (failover runs). */
  answeredBy(address: string): void;
  /** Everything counted so far. */
  counts(): Counts;
  /** p99 so far in milliseconds (cheaper than `counts()` for progress lines); 0 before any response. */
  p99(): number;
}

/** Longest latency the histogram tracks: one hour in microseconds; longer ones count as one hour. */
const HIGHEST_US = 3_600_000_000;

/**
 * Create an empty recorder.
 *
 * @example Usage
 * ```ts
 * import { createRecorder } from "./recorder.ts";
 * const recorder = createRecorder();
 * recorder.sent();
 * recorder.response(200, 12.5, "a");
 * recorder.counts().latencyMs?.p50; // 12.5
 * ```
 */
export function createRecorder(): Recorder {
  // Pure JavaScript build: the WebAssembly one needs an async init and brings nothing at these rates.
  const histogram = hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
  let sent = 0;
  let completed = 0;
  let failed = 0;
  let serverErrors = 0;
  let cancelled = 0;
  const statuses: Record<string, number> = {};
  const errors = Object.fromEntries(ERROR_KINDS.map((kind) => [kind, 0])) as Record<ErrorKind, number>;
  const backends: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  const addresses: Record<string, number> = {};
  let retried = 0;
  let recovered = 0;
  const ms = (us: number) => us / 1_000;
  return {
    sent: () => void sent++,
    response(status, latencyMs, backend) {
      completed++;
      if (status >= 500) serverErrors++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (backend !== undefined) backends[backend] = (backends[backend] ?? 0) + 1;
      histogram.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(latencyMs * 1_000))));
    },
    failure(kind) {
      failed++;
      errors[kind]++;
    },
    cancelled: () => void cancelled++,
    retried(reason) {
      retried++;
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    },
    recovered: () => void recovered++,
    answeredBy(address) {
      addresses[address] = (addresses[address] ?? 0) + 1;
    },
    p99: () => (histogram.totalCount ? ms(histogram.getValueAtPercentile(99)) : 0),
    counts() {
      // A percentile is reported as the top of its bucket, which can exceed the true maximum.
      const max = ms(histogram.maxValue);
      const at = (percentile: number) => Math.min(max, ms(histogram.getValueAtPercentile(percentile)));
      const latencyMs = histogram.totalCount === 0 ? undefined : {
        min: ms(histogram.minNonZeroValue),
        mean: ms(histogram.mean),
        p50: at(50),
        p90: at(90),
        p99: at(99),
        p999: at(99.9),
        max,
      };
      return {
        sent,
        completed,
        failed,
        serverErrors,
        cancelled,
        statuses: { ...statuses },
        errors: { ...errors },
        backends: { ...backends },
        latencyMs,
        retries: { total: retried, recovered, reasons: { ...reasons } },
        addresses: { ...addresses },
      };
    },
  };
}
