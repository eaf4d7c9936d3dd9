/**
 * The access log: one line per finished exchange (JSON or NCSA combined), written in batches off
 * the request path, its file reopened on SIGUSR1.
 *
 * @module
 */

export { AccessLog, linePieces, openSink } from "./access_log.ts";
export type { AccessLogOptions } from "./access_log.ts";
export { clfString, formatCommon, formatJson, jsonString, LineTimes } from "./record.ts";
export type { AccessRecord } from "./record.ts";
export { LineWriter } from "./writer.ts";
export type { LineWriterOptions, Sink } from "./writer.ts";
