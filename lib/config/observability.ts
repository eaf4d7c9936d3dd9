/**
 * The `access_log` and `trace_context` sections: what the proxy records about each request, and how
 * it takes part in a distributed trace. Both are read on every reload (turning the log on or
 * moving its file needs no restart).
 *
 * @module
 */

import type { Node } from "yaml";
import type { Reader } from "./reader.ts";
import type { AccessLogConfig, TraceContextConfig } from "./types.ts";

/** The defaults: no access log; trace context propagated, and started when absent. */
export const ACCESS_LOG_DEFAULTS: AccessLogConfig = Object.freeze({
  enabled: false,
  path: "-",
  format: "json",
});
export const TRACE_CONTEXT_DEFAULTS: TraceContextConfig = Object.freeze({ enabled: true, start: true });

const FORMATS = ["json", "common"] as const;

/** Read `access_log`; undefined after an error. */
export function readAccessLog(r: Reader, node: Node | undefined): AccessLogConfig | undefined {
  if (node === undefined) return ACCESS_LOG_DEFAULTS;
  const m = r.map(node, "access_log", ["enabled", "path", "format"]);
  if (!m) return undefined;
  const d = ACCESS_LOG_DEFAULTS;
  const enabled = m.has("enabled") ? r.boolean(m.get("enabled"), "access_log.enabled") : d.enabled;
  let path = m.has("path") ? r.string(m.get("path"), "access_log.path") : d.path;
  if (path !== undefined && path.trim() === "") {
    r.fail(
      r.nodeOf(m.get("path")),
      "access_log.path",
      `must be "-" (standard output) or a file path, got ""`,
    );
    path = undefined;
  }
  let format: AccessLogConfig["format"] | undefined = d.format;
  if (m.has("format")) {
    const f = r.string(m.get("format"), "access_log.format");
    format = FORMATS.find((x) => x === f);
    if (f !== undefined && format === undefined) {
      r.fail(
        r.nodeOf(m.get("format")),
        "access_log.format",
        `must be json or common, got ${JSON.stringify(f)}`,
      );
    }
  }
  if (enabled === undefined || path === undefined || format === undefined) return undefined;
  return { enabled, path, format };
}

/** Read `trace_context`; undefined after an error. */
export function readTraceContext(r: Reader, node: Node | undefined): TraceContextConfig | undefined {
  if (node === undefined) return TRACE_CONTEXT_DEFAULTS;
  const m = r.map(node, "trace_context", ["enabled", "start"]);
  if (!m) return undefined;
  const d = TRACE_CONTEXT_DEFAULTS;
  const enabled = m.has("enabled") ? r.boolean(m.get("enabled"), "trace_context.enabled") : d.enabled;
  const start = m.has("start") ? r.boolean(m.get("start"), "trace_context.start") : d.start;
  if (enabled === undefined || start === undefined) return undefined;
  return { enabled, start };
}
