import assert from "node:assert/strict";
import { fieldName, lowerName } from "../../../lib/http1/field_names.ts";

Deno.test("fieldName() gives the name as sent, common or not, and lowerName() its lower case", () => {
  const line = "xHost:Content-Lengtx:ETAG:etag:ETag:User-Agent:Hosts:X-Request-ID:traceparent:";
  const names: string[] = [];
  for (let at = 1, colon; (colon = line.indexOf(":", at)) !== -1; at = colon + 1) {
    names.push(fieldName(line, at, colon));
  }
  assert.deepEqual(names, [
    "Host",
    "Content-Lengtx",
    "ETAG",
    "etag",
    "ETag",
    "User-Agent",
    "Hosts",
    "X-Request-ID",
    "traceparent",
  ]);
  assert.deepEqual(names.map(lowerName), names.map((n) => n.toLowerCase()));
});
