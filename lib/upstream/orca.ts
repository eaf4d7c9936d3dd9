/**
 * Server-reported load: the `Endpoint-Load-Metrics` response header in ORCA's TEXT format, as
 * Envoy reads it (source/common/orca/orca_parser.cc; the fields are xds.data.orca.v3.OrcaLoadReport):
 *
 * ```
 * Endpoint-Load-Metrics: TEXT cpu_utilization=0.3, rps_fractional=120, named_metrics.queue=4
 * ```
 *
 * The value is `TEXT ` and a comma-separated list of `name=value` (Envoy also accepts `name:value`).
 * Names are the report's fields (`cpu_utilization`, `mem_utilization`, `application_utilization`,
 * `rps_fractional`, `eps`), `named_metrics.<key>` and `utilization.<key>`; values are finite,
 * non-negative decimal numbers. Strict as Envoy is: an unknown name, a duplicate, an empty key or a
 * value that is not such a number makes the whole header invalid, so a half-understood report is
 * never taken for a whole one. The JSON and binary encodings (`JSON ...`, `BIN ...`,
 * `Endpoint-Load-Metrics-Bin`) are not read; a header in them is reported as unsupported.
 *
 * Parsing never throws: bad input is a value with a one-line reason.
 *
 * @module
 */

/** The header backends report load in (lower case, as header names are compared). */
export const LOAD_REPORT_HEADER = "endpoint-load-metrics";
/** gRPC's binary variant of the same report: never read, but removed from responses like the other. */
export const LOAD_REPORT_BIN_HEADER = "endpoint-load-metrics-bin";

/** A parsed ORCA load report. Fields the backend did not send are absent. */
export interface LoadReport {
  /** CPU in use as a share of what the backend may use (usually 0..1, may exceed 1). */
  readonly cpuUtilization?: number;
  /** Memory in use as a share of the backend's limit. */
  readonly memUtilization?: number;
  /** The application's own idea of how busy it is; preferred over CPU by Envoy's client-side WRR. */
  readonly applicationUtilization?: number;
  /** Queries per second the backend serves. */
  readonly rpsFractional?: number;
  /** Errors per second. */
  readonly eps?: number;
  /** `named_metrics.<key>`: application metrics, e.g. `rif` (requests in flight). */
  readonly namedMetrics: Readonly<Record<string, number>>;
  /** `utilization.<key>`: named utilizations. */
  readonly utilization: Readonly<Record<string, number>>;
}

/** A parse result: the report, or why the header was refused. */
export type LoadReportResult =
  | { readonly ok: true; readonly report: LoadReport }
  | { readonly ok: false; readonly error: string };

const PREFIX = "TEXT ";
/** The report's own fields, by their ORCA names. */
const FIELDS: Readonly<Record<string, keyof Omit<LoadReport, "namedMetrics" | "utilization">>> = {
  cpu_utilization: "cpuUtilization",
  mem_utilization: "memUtilization",
  application_utilization: "applicationUtilization",
  rps_fractional: "rpsFractional",
  eps: "eps",
};
/** A decimal number as text: no hex, no `Infinity`, no sign but an optional minus (refused later). */
const DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Keys of named metrics and utilizations: what a metric label or a JSON key can carry safely. */
const KEY = /^[A-Za-z0-9_.-]{1,64}$/;
/** Most entries read from one header, so a backend cannot make the proxy keep an unbounded report. */
export const MAX_ENTRIES = 64;

/**
 * Parse an `Endpoint-Load-Metrics` value.
 *
 * @param value the header's value as received
 * @returns the report, or `{ok: false, error}` naming the first problem
 * @example
 * ```ts
 * import { parseLoadReport } from "./orca.ts";
 * const r = parseLoadReport("TEXT cpu_utilization=0.3, named_metrics.rif=4");
 * if (r.ok) r.report.namedMetrics.rif; // 4
 * ```
 */
export function parseLoadReport(value: string): LoadReportResult {
  if (!value.startsWith(PREFIX)) {
    const format = value.slice(0, 5).split(" ")[0];
    return fail(`unsupported ORCA format "${format}" (only TEXT is read)`);
  }
  const fields: Record<string, number> = {};
  const named: [string, number][] = [];
  const utilization: [string, number][] = [];
  const seen = new Set<string>();
  for (const raw of value.slice(PREFIX.length).split(",")) {
    const entry = raw.trim();
    if (entry === "") continue; // an empty list element (RFC 9110 section 5.6.1)
    if (seen.size === MAX_ENTRIES) return fail(`more than ${MAX_ENTRIES} metrics`);
    const cut = separatorOf(entry);
    if (cut === -1) return fail(`"${clip(entry)}" is not name=value`);
    const name = entry.slice(0, cut).trim();
    const text = entry.slice(cut + 1).trim();
    if (name === "") return fail("a metric name is empty");
    if (seen.has(name)) return fail(`duplicate metric ${clip(name)}`);
    seen.add(name);
    if (!DECIMAL.test(text)) return fail(`${clip(name)}: "${clip(text)}" is not a number`);
    const number = Number(text);
    if (!Number.isFinite(number)) return fail(`${clip(name)}: ${clip(text)} is not finite`);
    if (number < 0) return fail(`${clip(name)}: ${clip(text)} is negative`);
    const field = FIELDS[name];
    if (Object.hasOwn(FIELDS, name)) fields[field] = number;
    else if (name.startsWith("named_metrics.")) {
      const key = name.slice("named_metrics.".length);
      if (!KEY.test(key)) return fail(`named metric key "${clip(key)}" must match [A-Za-z0-9_.-]{1,64}`);
      named.push([key, number]);
    } else if (name.startsWith("utilization.")) {
      const key = name.slice("utilization.".length);
      if (!KEY.test(key)) return fail(`utilization key "${clip(key)}" must match [A-Za-z0-9_.-]{1,64}`);
      utilization.push([key, number]);
    } else return fail(`unknown metric ${clip(name)}`);
  }
  const report: LoadReport = {
    ...fields,
    namedMetrics: Object.freeze(Object.fromEntries(named)),
    utilization: Object.freeze(Object.fromEntries(utilization)),
  };
  return { ok: true, report: Object.freeze(report) };
}

/**
 * A report as an `Endpoint-Load-Metrics` value in the TEXT format (what backends send; the demo
 * backend uses it). Numbers are written as JavaScript prints them, which {@linkcode parseLoadReport}
 * reads back exactly.
 *
 * @example
 * ```ts
 * import { formatLoadReport } from "./orca.ts";
 * formatLoadReport({ cpuUtilization: 0.25, namedMetrics: { rif: 3 }, utilization: {} });
 * // "TEXT cpu_utilization=0.25, named_metrics.rif=3"
 * ```
 */
export function formatLoadReport(report: LoadReport): string {
  const parts: string[] = [];
  for (const [name, field] of Object.entries(FIELDS)) {
    const value = report[field];
    if (value !== undefined) parts.push(`${name}=${value}`);
  }
  for (const [key, value] of Object.entries(report.namedMetrics)) parts.push(`named_metrics.${key}=${value}`);
  for (const [key, value] of Object.entries(report.utilization)) parts.push(`utilization.${key}=${value}`);
  return `${PREFIX}${parts.join(", ")}`;
}

/**
 * The value of the first `Endpoint-Load-Metrics` field in flat header pairs, or undefined. Envoy
 * reads the first one too; later ones are ignored.
 */
export function loadReportHeader(raw: readonly string[]): string | undefined {
  const n = LOAD_REPORT_HEADER.length;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === n && raw[i].toLowerCase() === LOAD_REPORT_HEADER) return raw[i + 1];
  }
  return undefined;
}

/**
 * The utilization a report gives, as Envoy's client-side weighted round robin reads it:
 * `application_utilization` when positive, else `cpu_utilization`; undefined when neither is sent.
 */
export function reportedUtilization(report: LoadReport): number | undefined {
  const app = report.applicationUtilization;
  return app !== undefined && app > 0 ? app : report.cpuUtilization;
}

/** Where `name=value` (or Envoy's `name:value`) splits: the first `=` or `:`, or -1. */
function separatorOf(entry: string): number {
  for (let i = 0; i < entry.length; i++) {
    const c = entry.charCodeAt(i);
    if (c === 0x3d || c === 0x3a) return i;
  }
  return -1;
}

/** A fragment of bad input, short enough for a log line or a metric's reason. */
function clip(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, "?");
  return printable.length > 40 ? `${printable.slice(0, 40)}...` : printable;
}

function fail(error: string): LoadReportResult {
  return { ok: false, error: `invalid ${LOAD_REPORT_HEADER}: ${error}` };
}
