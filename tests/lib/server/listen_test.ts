import assert from "node:assert/strict";
import { explainListen } from "../../../lib/server/listen.ts";

const addr = { hostname: "127.0.0.1", port: 8080 };

Deno.test("explainListen: a taken address is one line naming the key and the address", () => {
  const e = explainListen("listen", addr, new Deno.errors.AddrInUse("Address already in use (os error 98)"));
  assert.equal(e.message, "listen: cannot listen on 127.0.0.1:8080: address already in use");
});

Deno.test("explainListen: SO_REUSEPORT without --unstable-net says which flag workers need", () => {
  // The runtime's own words when Deno.listen({ reusePort: true }) runs without the flag (Deno 2.9).
  const runtime = new TypeError(
    "Unstable API 'Deno.listen({ reusePort: true })'. The `--unstable-net` flag must be provided.",
  );
  const e = explainListen("tls.listen", { hostname: "::1", port: 8443 }, runtime);
  assert.equal(
    e.message,
    'tls.listen: cannot listen on [::1]:8443: workers > 1 needs Deno\'s --unstable-net (deno.json\'s "unstable": ["net"] sets it for deno task start)',
  );
  assert.ok(!e.message.includes("\n"));
});
