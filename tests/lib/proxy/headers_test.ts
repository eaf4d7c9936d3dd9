import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { downstreamHeaders, FOR_THE_PROXY, HOP_BY_HOP, upstreamHeaders } from "../../../lib/proxy/headers.ts";

/** `name` with every other letter upper-cased: a case no fast path may miss. */
function oddCase(name: string): string {
  return [...name].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join("");
}

Deno.test("downstreamHeaders drops hop-by-hop and proxy-only fields in any case, keeps the rest as sent", () => {
  // `Connection: keep-alive` names no other field: the names are judged one by one.
  const names = [...HOP_BY_HOP, ...FOR_THE_PROXY].filter((n) => n !== "connection");
  const dropped = [
    "Connection",
    "keep-alive",
    ...names.flatMap((n) => [n, "x", n.toUpperCase(), "x", oddCase(n), "x"]),
  ];
  const kept = [
    "Server",
    "nginx",
    "Content-Type",
    "text/plain",
    "ETag",
    '"1"',
    "Set-Cookie",
    "a=1",
    "Set-Cookie",
    "b=2",
  ];
  deepStrictEqual(downstreamHeaders([...dropped, ...kept]), kept);
});

Deno.test("downstreamHeaders drops the fields Connection names, whatever their length or case", () => {
  const raw = [
    "CONNECTION",
    "X-Private, a",
    "x-private",
    "1",
    "A",
    "2",
    "X-Public",
    "3",
    "Connection",
    "keep-alive",
  ];
  deepStrictEqual(downstreamHeaders(raw), ["X-Public", "3"]);
});

Deno.test("downstreamHeaders keeps Upgrade on a 101 only", () => {
  const raw = ["Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Accept", "k"];
  deepStrictEqual(downstreamHeaders(raw, true), ["Upgrade", "websocket", "Sec-WebSocket-Accept", "k"]);
  deepStrictEqual(downstreamHeaders(raw), ["Sec-WebSocket-Accept", "k"]);
});

Deno.test("upstreamHeaders gives the same pairs with the parser's lower-case names as without them", () => {
  const raw = [
    "Host",
    "shop.example",
    "Connection",
    "keep-alive, X-Secret",
    "X-Secret",
    "s",
    "TE",
    "trailers",
    "X-Forwarded-For",
    "10.0.0.9",
    "X-Request-Id",
    "old",
    "Accept",
    "*/*",
  ];
  const lower = raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  const info = { clientIp: "127.0.0.1", proto: "http", requestId: "r1" };
  const expected = [
    "Host",
    "shop.example",
    "Accept",
    "*/*",
    "x-forwarded-for",
    "10.0.0.9, 127.0.0.1",
    "x-forwarded-proto",
    "http",
    "x-forwarded-host",
    "shop.example",
    "x-request-id",
    "r1",
  ];
  deepStrictEqual(upstreamHeaders(raw, info), expected);
  deepStrictEqual(upstreamHeaders(raw, info, lower), expected);
  strictEqual(upstreamHeaders(raw, info, lower).length, expected.length);
});
