/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) at the proxy: the proxy is one span of
 * the trace, so a valid `traceparent` goes on with the same trace id and flags and a new parent id
 * (the proxy's span id); an invalid one, or several, start a new trace; a request without one
 * starts a new trace when `trace_context.start` allows (the sampled flag set: the access log line
 * is that span's record). `tracestate` is vendor data the proxy does not own: it passes unchanged
 * when it and the `traceparent` it belongs to are valid (section 3.3), and is dropped otherwise.
 *
 * @module
 */

import type { RandomIds } from "../base/mod.ts";
import type { HeaderReader } from "../net/mod.ts";

/** What the proxy sends upstream, and the trace id for the access log. */
export interface TraceHeaders {
  /** The `traceparent` to send; undefined: none (tracing off, or not started). */
  readonly traceparent: string | undefined;
  /** The `tracestate` to send with it; undefined: none. */
  readonly tracestate: string | undefined;
  /** The trace id the request belongs to (32 hex digits), or undefined. */
  readonly traceId: string | undefined;
}

const NONE: TraceHeaders = Object.freeze({
  traceparent: undefined,
  tracestate: undefined,
  traceId: undefined,
});
/** Version 00: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lower case (section 3.2.2). */
const V00 = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);
/** A tracestate key: simple, or `tenant@system` (section 3.3.1.3.1). */
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
/** A tracestate value: printable ASCII but `,` and `=`, not ending in a space (section 3.3.1.3.2). */
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const MAX_MEMBERS = 32;

/** A parsed, valid `traceparent`. */
export interface TraceParent {
  readonly traceId: string;
  readonly parentId: string;
  readonly flags: string;
}

/**
 * Parse a `traceparent` value; undefined when invalid. A version above 00 is read by the 00 rules
 * when its first 55 characters follow them and a `-` or the end comes next (section 3.2.4.1).
 *
 * @example
 * ```ts
 * import { parseTraceParent } from "./trace.ts";
 * parseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?.traceId;
 * // "4bf92f3577b34da6a3ce929d0e0e4736"
 * ```
 */
export function parseTraceParent(value: string): TraceParent | undefined {
  let head = value;
  if (value.length !== 55) {
    if (value.length < 55 || value.startsWith("00") || value[55] !== "-") return undefined;
    head = value.slice(0, 55);
  }
  const m = V00.exec(head);
  if (!m || m[1] === "ff" || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return undefined;
  // A later version's flags may mean more than 00 knows; only `sampled` carries over.
  const flags = m[1] === "00" ? m[4] : (parseInt(m[4], 16) & 1) === 1 ? "01" : "00";
  return { traceId: m[2], parentId: m[3], flags };
}

/** True when `value` is a well-formed `tracestate` list: at most 32 members, keys unique. */
export function validTraceState(value: string): boolean {
  const keys = new Set<string>();
  for (const part of value.split(",")) {
    const member = part.trim();
    if (member === "") continue; // empty list members are allowed and ignored (section 3.3.1.1)
    const eq = member.indexOf("=");
    if (eq <= 0) return false;
    const key = member.slice(0, eq);
    if (!KEY.test(key) || !VALUE.test(member.slice(eq + 1)) || keys.has(key)) return false;
    keys.add(key);
  }
  return keys.size <= MAX_MEMBERS;
}

/** How the proxy takes part in traces (`trace_context` in the config). */
export interface TraceSettings {
  /** Touch `traceparent`/`tracestate` at all; off: they pass like any other header. */
  readonly enabled: boolean;
  /** Start a trace for a request without a valid `traceparent`. */
  readonly start: boolean;
}

/**
 * The trace headers to send upstream for a request with `headers`, the proxy's span id drawn
 * from `ids`. With tracing off, the incoming trace id (when valid) is still reported for the log.
 */
export function traceHeaders(headers: HeaderReader, settings: TraceSettings, ids: RandomIds): TraceHeaders {
  const incoming = headers.get("traceparent");
  if (!settings.enabled) {
    const parent = incoming === null ? undefined : parseTraceParent(incoming);
    return parent ? { traceparent: undefined, tracestate: undefined, traceId: parent.traceId } : NONE;
  }
  // Several traceparent fields are joined with ", " by `get` and so never parse (section 3.2.1).
  const parent = incoming === null ? undefined : parseTraceParent(incoming);
  if (parent) {
    const state = headers.get("tracestate");
    return {
      traceparent: `00-${parent.traceId}-${ids.hex(8)}-${parent.flags}`,
      tracestate: state !== null && validTraceState(state) ? state : undefined,
      traceId: parent.traceId,
    };
  }
  if (!settings.start) return NONE;
  const traceId = ids.hex(16);
  return { traceparent: `00-${traceId}-${ids.hex(8)}-01`, tracestate: undefined, traceId };
}
