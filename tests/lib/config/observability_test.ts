import assert from "node:assert/strict";
import { parseConfig } from "../../../lib/config/config.ts";

const BACKENDS = `backends: [{url: "http://127.0.0.1:9001"}]\n`;

function parse(text: string, env: Record<string, string> = {}) {
  return parseConfig(`${text}\n${BACKENDS}`, { env: (n) => env[n] });
}

Deno.test("access_log and trace_context default to: no log; propagate, and start traces", () => {
  const r = parse("");
  assert.ok(r.ok);
  assert.deepEqual(r.config.accessLog, { enabled: false, path: "-", format: "json" });
  assert.deepEqual(r.config.traceContext, { enabled: true, start: true });
});

Deno.test("access_log reads every key, from the environment too", () => {
  const r = parse(
    'access_log: {enabled: "${LB_ACCESS_LOG:-false}", path: /var/log/lb/access.log, format: common}\n' +
      "trace_context: {enabled: true, start: false}",
    { LB_ACCESS_LOG: "true" },
  );
  assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
  assert.deepEqual(r.config.accessLog, { enabled: true, path: "/var/log/lb/access.log", format: "common" });
  assert.deepEqual(r.config.traceContext, { enabled: true, start: false });
});

Deno.test("access_log and trace_context errors are one line each with file, line and field", () => {
  const r = parse(
    'access_log:\n  enabled: yes\n  path: ""\n  format: xml\n  buffer: 1\ntrace_context: {start: 1, sampled: true}',
  );
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? [] : r.errors, [
    'config.yml:2: access_log.enabled: must be true or false, got "yes"',
    'config.yml:3: access_log.path: must be "-" (standard output) or a file path, got ""',
    'config.yml:4: access_log.format: must be json or common, got "xml"',
    "config.yml:5: access_log.buffer: unknown key; expected one of enabled, path, format",
    "config.yml:6: trace_context.sampled: unknown key; expected one of enabled, start",
    "config.yml:6: trace_context.start: must be true or false, got 1",
  ]);
});
