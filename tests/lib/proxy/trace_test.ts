import assert from "node:assert/strict";
import { RandomIds } from "../../../lib/base/mod.ts";
import { parseTraceParent, traceHeaders, validTraceState } from "../../../lib/proxy/trace.ts";
import { nodeRequest, startBackend, startLb } from "../../_util/harness.ts";

const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? null });
const ON = { enabled: true, start: true };

Deno.test("parseTraceParent accepts version 00 exactly and later versions by the 00 rules", () => {
  assert.deepEqual(parseTraceParent(TP), {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    parentId: "00f067aa0ba902b7",
    flags: "01",
  });
  assert.equal(parseTraceParent(`cc${TP.slice(2)}-what-the-future-holds`)?.flags, "01");
  assert.equal(parseTraceParent(`cc${TP.slice(2, -2)}03`)?.flags, "01", "unknown flags dropped");
  assert.equal(parseTraceParent(`cc${TP.slice(2, -2)}02`)?.flags, "00");
});

Deno.test("parseTraceParent refuses every invalid form", () => {
  for (
    const bad of [
      "",
      TP.toUpperCase(),
      `ff${TP.slice(2)}`, // version ff is forbidden
      `${TP}-extra`, // version 00 has exactly four fields
      `cc${TP.slice(2)}.x`, // a later version's fifth field needs a dash
      TP.slice(0, 54),
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero parent id
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01", // misplaced dash
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
      `${TP}, ${TP}`, // two traceparent fields joined
    ]
  ) assert.equal(parseTraceParent(bad), undefined, bad);
});

Deno.test("validTraceState follows the list grammar: keys, values, 32 members, no duplicates", () => {
  for (
    const ok of [
      "congo=t61rcWkgMzE",
      "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
      "a@b=1 , , c=2",
      "t-1_*/@sys=x y",
    ]
  ) {
    assert.ok(validTraceState(ok), ok);
  }
  const many = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join(",");
  assert.ok(validTraceState(many(32)));
  for (const bad of ["=v", "Upper=v", "k=v,k=w", "k=", "k=a,b", "k=v=w", many(33), "k=\u00e9"]) {
    assert.equal(validTraceState(bad), false, bad);
  }
});

Deno.test("traceHeaders continues a valid trace with a new parent id and keeps tracestate", () => {
  const ids = new RandomIds();
  const t = traceHeaders(headers({ traceparent: TP, tracestate: "congo=t61rcWkgMzE" }), ON, ids);
  assert.equal(t.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.match(t.traceparent!, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  assert.notEqual(t.traceparent, TP, "the proxy's own span id");
  assert.equal(t.tracestate, "congo=t61rcWkgMzE");
  const again = traceHeaders(headers({ traceparent: TP }), ON, ids);
  assert.notEqual(again.traceparent, t.traceparent, "a new span per request");
  assert.equal(again.tracestate, undefined);
});

Deno.test("traceHeaders replaces an invalid traceparent, drops its tracestate, starts when absent", () => {
  const ids = new RandomIds();
  const replaced = traceHeaders(headers({ traceparent: "00-xyz", tracestate: "congo=1" }), ON, ids);
  assert.match(replaced.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.equal(replaced.tracestate, undefined, "tracestate of a broken trace is not trusted");
  assert.equal(replaced.traceparent!.slice(3, 35), replaced.traceId);
  const started = traceHeaders(headers({}), ON, ids);
  assert.match(started.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.notEqual(started.traceId, replaced.traceId);
  const invalidState = traceHeaders(headers({ traceparent: TP, tracestate: "Bad=1" }), ON, ids);
  assert.equal(invalidState.tracestate, undefined);
});

Deno.test("traceHeaders with start off or tracing off", () => {
  const ids = new RandomIds();
  const noStart = { enabled: true, start: false };
  assert.equal(traceHeaders(headers({}), noStart, ids).traceparent, undefined);
  assert.equal(traceHeaders(headers({ traceparent: "bad" }), noStart, ids).traceparent, undefined);
  assert.match(traceHeaders(headers({ traceparent: TP }), noStart, ids).traceparent!, /^00-4bf92f/);
  const off = { enabled: false, start: true };
  const t = traceHeaders(headers({ traceparent: TP }), off, ids);
  assert.equal(t.traceparent, undefined, "nothing to send: the client's header passes as it came");
  assert.equal(t.traceId, "4bf92f3577b34da6a3ce929d0e0e4736", "still known for the access log");
});

Deno.test("RandomIds gives distinct lower-case hex ids of the asked size", () => {
  const ids = new RandomIds();
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = ids.hex(8);
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.notEqual(id, "0".repeat(16));
    seen.add(id);
  }
  assert.equal(seen.size, 2000);
  assert.match(ids.hex(16), /^[0-9a-f]{32}$/);
});

Deno.test("proxy: the backend gets the client's trace with the proxy's span; tracestate only when valid", async () => {
  const got: [string | null, string | null][] = [];
  const be = startBackend((req) => {
    got.push([req.headers.get("traceparent"), req.headers.get("tracestate")]);
    return new Response("ok");
  });
  const lb = await startLb([be.url]);
  try {
    const send = async (headers: [string, string][]) => {
      const r = await nodeRequest(`${lb.url}/`, { headers: Object.fromEntries(headers) });
      assert.equal(r.status, 200);
    };
    await send([["traceparent", TP], ["tracestate", "congo=t61rcWkgMzE"]]);
    await send([["traceparent", TP], ["tracestate", "Invalid Key=1"]]);
    await send([["traceparent", "00-bad"], ["tracestate", "congo=1"]]);
    await send([]);
    const [kept, badState, replaced, started] = got;
    assert.match(kept[0]!, /^00-4bf92f3577b34da6a3ce929d0e0e4736-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$/);
    assert.equal(kept[1], "congo=t61rcWkgMzE");
    assert.match(badState[0]!, /^00-4bf92f3577b34da6a3ce929d0e0e4736-/);
    assert.equal(badState[1], null);
    assert.match(replaced[0]!, /^00-(?!4bf92f)[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(replaced[1], null);
    assert.match(started[0]!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.notEqual(started[0]!.slice(3, 35), replaced[0]!.slice(3, 35));
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy: trace_context off passes trace headers untouched; start off adds none", async () => {
  for (
    const [extra, sent, expected] of [
      ["trace_context: {enabled: false}", "00-bad", "00-bad"],
      ["trace_context: {enabled: false}", undefined, null],
      ["trace_context: {start: false}", undefined, null],
      ["trace_context: {start: false}", "00-bad", null],
    ] as const
  ) {
    let seen: string | null | undefined;
    const be = startBackend((req) => (seen = req.headers.get("traceparent"), new Response("ok")));
    const lb = await startLb([be.url], extra);
    try {
      await nodeRequest(`${lb.url}/`, { headers: sent ? { traceparent: sent } : {} });
      assert.equal(seen, expected, `${extra} with ${sent}`);
    } finally {
      await lb.shutdown();
      await be.close();
    }
  }
});
