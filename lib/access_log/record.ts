/**
 * One access-log line per finished exchange, as JSON or in the NCSA combined format with the
 * proxy's own fields appended (as Traefik's "common" format does). Both carry the same facts: the
 * hedge and sticky fields, when they apply, are optional keys in JSON and trailing tokens in
 * `common`.
 *
 * Every client-controlled string (method aside, which the listener validated as a token) may hold
 * any byte: the listener keeps header bytes as Latin-1 characters, so invalid UTF-8, CR, LF and
 * quotes all arrive as characters. Both formats escape every character outside printable ASCII and
 * their own delimiters, so a line is pure ASCII, can never be split, and a value can never end its
 * field early (OWASP logging cheat sheet, "log injection").
 *
 * @module
 */

import { LineBytes } from "./line_bytes.ts";

/** The facts of one exchange. Strings absent are logged as `-`. */
export interface AccessRecord {
  /** When the request arrived, epoch ms. */
  readonly time: number;
  readonly requestId: string | undefined;
  readonly traceId: string | undefined;
  readonly clientIp: string;
  readonly method: string;
  readonly host: string | null;
  /** The request target: path with query. */
  readonly path: string;
  /** `HTTP/1.0`, `HTTP/1.1` or `HTTP/2`. */
  readonly protocol: string;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  /** From the first attempt's start to the response headers; undefined without a response. */
  readonly upstreamMs: number | undefined;
  readonly service: string | undefined;
  readonly route: string | undefined;
  readonly backend: string | undefined;
  /** Backend attempts made (retries and hedges included); 0 when none was tried. */
  readonly attempts: number;
  /**
   * Present when a hedge was sent (`hedging`): the hedge's backend and whose response the client
   * got: `first`, `hedge`, or `neither` (both failed, or answered what `retries.on` retries).
   */
  readonly hedge?: { readonly backend: string; readonly winner: "first" | "hedge" | "neither" };
  /**
   * With `sticky`: `kept` when the request's cookie named a backend that could serve, `set` when
   * the response carries a new cookie. Absent without sticky sessions or without a response.
   */
  readonly sticky?: "kept" | "set";
  readonly userAgent: string | null;
  readonly referer: string | null;
}

/** `s` as a JSON string literal in ASCII only: non-ASCII and controls as `\u00XX`. */
export function jsonString(s: string): string {
  const out = new LineBytes(s.length + 2);
  out.json(s);
  return out.toString();
}

/** `s` for a quoted field of the combined format: `"`, `\`, controls and non-ASCII as `\xHH`, as NGINX does. */
export function clfString(s: string): string {
  const out = new LineBytes(s.length);
  out.clf(s);
  return out.toString();
}

const dash = (s: string | null | undefined) => s === null || s === undefined || s === "" ? "-" : s;
const ms = (n: number) => Math.round(n * 1000) / 1000;

/**
 * The record as one JSON object (no newline), keys in a fixed order.
 *
 * @example
 * ```ts
 * import { formatJson } from "./record.ts";
 * formatJson({ time: 0, requestId: "r1", traceId: undefined, clientIp: "127.0.0.1", method: "GET",
 *   host: "a", path: "/", protocol: "HTTP/1.1", status: 200, bytesIn: 0, bytesOut: 2, durationMs: 1.5,
 *   upstreamMs: 1.2, service: "default", route: "routes[0]", backend: "b0", attempts: 1,
 *   userAgent: "curl", referer: null });
 * // {"time":"1970-01-01T00:00:00.000Z","request_id":"r1","trace_id":"-",...}
 * ```
 *
 * @param times the log's timestamp cache (a fresh one formats as well, only slower)
 */
export function formatJson(r: AccessRecord, times: LineTimes = new LineTimes()): string {
  const out = new LineBytes();
  writeJson(r, out, times);
  return out.toString();
}

/** {@linkcode formatJson} appended to `out` as bytes: how the access log writes a line. */
export function writeJson(r: AccessRecord, out: LineBytes, times: LineTimes): void {
  out.ascii('{"time":"');
  out.ascii(times.iso(r.time));
  out.byte(0x22);
  text(out, ',"request_id":', dash(r.requestId));
  text(out, ',"trace_id":', dash(r.traceId));
  text(out, ',"client_ip":', r.clientIp);
  text(out, ',"method":', r.method);
  text(out, ',"host":', dash(r.host));
  text(out, ',"path":', r.path);
  text(out, ',"protocol":', r.protocol);
  count(out, ',"status":', r.status);
  count(out, ',"bytes_in":', r.bytesIn);
  count(out, ',"bytes_out":', r.bytesOut);
  value(out, ',"duration_ms":', String(ms(r.durationMs)));
  value(out, ',"upstream_ms":', r.upstreamMs === undefined ? "null" : String(ms(r.upstreamMs)));
  text(out, ',"service":', dash(r.service));
  text(out, ',"route":', dash(r.route));
  text(out, ',"backend":', dash(r.backend));
  count(out, ',"attempts":', r.attempts);
  if (r.hedge) {
    text(out, ',"hedge_backend":', r.hedge.backend);
    text(out, ',"hedge_winner":', r.hedge.winner);
  }
  if (r.sticky) text(out, ',"sticky":', r.sticky);
  text(out, ',"user_agent":', dash(r.userAgent));
  out.byte(0x7d);
}

/** `prefix` (`,"key":`) then `v`, a JSON number or `null` as text. */
function value(out: LineBytes, prefix: string, v: string): void {
  out.ascii(prefix);
  out.ascii(v);
}

/** `prefix` (`,"key":`) then the count `n`. */
function count(out: LineBytes, prefix: string, n: number): void {
  out.ascii(prefix);
  out.uint(n);
}

/** `prefix` (`,"key":`) then `s` as a JSON string. */
function text(out: LineBytes, prefix: string, s: string): void {
  out.ascii(prefix);
  out.json(s);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => n < 10 ? `0${n}` : `${n}`;

/**
 * A line's timestamp, in either format, from epoch ms. Formatting a `Date` costs about 0.5 µs,
 * a tenth of what logging adds to a proxied request, while the text before the milliseconds
 * changes once a second: that part is kept per second. One per log, so nothing is shared.
 */
export class LineTimes {
  #second = NaN;
  /** `2026-12-01T10:00:00.` of `#second`. */
  #isoPrefix = "";
  /** `01/Dec/2026:10:00:00 +0000` of `#second`. */
  #clf = "";

  /** RFC 3339 in UTC with milliseconds: `2026-12-01T10:00:00.123Z`. */
  iso(t: number): string {
    const ms = Math.floor(t);
    const second = Math.floor(ms / 1000);
    if (second !== this.#second) this.#at(second);
    const frac = ms - second * 1000;
    return `${this.#isoPrefix}${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}Z`;
  }

  /** The combined format's `10/Oct/2000:13:55:36 +0000`, in UTC. */
  clf(t: number): string {
    const second = Math.floor(Math.floor(t) / 1000);
    if (second !== this.#second) this.#at(second);
    return this.#clf;
  }

  #at(second: number): void {
    const d = new Date(second * 1000);
    this.#second = second;
    this.#isoPrefix = d.toISOString().slice(0, 20);
    this.#clf = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
      `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
  }
}

/**
 * The record in the NCSA combined format, then request id, trace id, service, route, backend,
 * attempts, upstream and total milliseconds:
 * `127.0.0.1 - - [01/Dec/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 6 "-" "curl/8" r1 - "default" "routes[0]" "b0" 1 0.8 1.2ms`
 *
 * Only when they apply, `key=value` tokens follow the milliseconds, as the JSON format's optional
 * keys do: `hedge=<hedge's backend>:<winner>` for a hedged request (winner `first`, `hedge` or
 * `neither`), then `sticky=kept` or `sticky=set`. Every field before them keeps its position, so a
 * parser reading fields from the start reads these lines too. The backend is `\x`-escaped as every
 * string is; backend names hold no space or `:` (`[a-z0-9_.-]`, or a Docker container's name) and
 * the winner is one of three words, so a token splits at its first `=` and last `:`:
 * `... "b0" 2 0.8 1.2ms hedge=b1:hedge sticky=set`
 *
 * @param times the log's timestamp cache (a fresh one formats as well, only slower)
 */
export function formatCommon(r: AccessRecord, times: LineTimes = new LineTimes()): string {
  const out = new LineBytes();
  writeCommon(r, out, times);
  return out.toString();
}

/** {@linkcode formatCommon} appended to `out` as bytes: how the access log writes a line. */
export function writeCommon(r: AccessRecord, out: LineBytes, times: LineTimes): void {
  out.clf(r.clientIp);
  out.ascii(" - - [");
  out.ascii(times.clf(r.time));
  out.ascii('] "');
  out.clf(r.method);
  out.byte(0x20);
  out.clf(r.path);
  out.byte(0x20);
  out.ascii(r.protocol);
  out.ascii('" ');
  out.ascii(String(r.status));
  out.byte(0x20);
  out.ascii(r.bytesOut === 0 ? "-" : String(r.bytesOut));
  quoted(out, r.referer);
  quoted(out, r.userAgent);
  out.byte(0x20);
  out.clf(dash(r.requestId));
  out.byte(0x20);
  out.clf(dash(r.traceId));
  quoted(out, r.service);
  quoted(out, r.route);
  quoted(out, r.backend);
  out.byte(0x20);
  out.ascii(String(r.attempts));
  out.byte(0x20);
  out.ascii(r.upstreamMs === undefined ? "-" : String(ms(r.upstreamMs)));
  out.byte(0x20);
  out.ascii(String(ms(r.durationMs)));
  out.ascii("ms");
  if (r.hedge) {
    out.ascii(" hedge=");
    out.clf(r.hedge.backend);
    out.byte(0x3a);
    out.ascii(r.hedge.winner);
  }
  if (r.sticky) {
    out.ascii(" sticky=");
    out.ascii(r.sticky);
  }
}

/** ` "s"` for the combined format, `-` for a string the proxy does not have. */
function quoted(out: LineBytes, s: string | null | undefined): void {
  out.ascii(' "');
  out.clf(dash(s));
  out.byte(0x22);
}
