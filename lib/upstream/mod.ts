/**
 * The client to backends: pooled keep-alive HTTP/1.1 connections that keep the client's `Host`,
 * add no headers, never decompress and never follow redirects; and the load reports (ORCA) backends
 * send in response headers.
 *
 * @module
 */

export { UpstreamClient } from "./client.ts";
export type {
  BodyOutcome,
  Origin,
  OriginTls,
  UpstreamFailure,
  UpstreamRequest,
  UpstreamResponse,
  UpstreamTimeouts,
  UpstreamTunnel,
} from "./types.ts";
export { UpstreamConn } from "./conn.ts";
export { framingOf, headEnd, MAX_HEAD_BYTES, parseResponseHead } from "./response_head.ts";
export type { ResponseHead } from "./response_head.ts";
export {
  formatLoadReport,
  LOAD_REPORT_BIN_HEADER,
  LOAD_REPORT_HEADER,
  loadReportHeader,
  parseLoadReport,
  reportedUtilization,
} from "./orca.ts";
export type { LoadReport, LoadReportResult } from "./orca.ts";
