/**
 * The clock injected into the public listener's request loop (`createConnections({ now })`) is the
 * one its deadlines are judged by: the header timeout passes when that clock says so, not when the
 * wall clock does.
 */
import assert from "node:assert/strict";
import { createConnections, listenOn, type ServerResponse } from "../../../lib/listener/mod.ts";
import { RawConn } from "../../_util/raw_http.ts";

const ok: ServerResponse = { status: 200, headers: [], body: "ok" };

Deno.test("createConnections() times a partial head out by its injected clock, not the wall clock", async () => {
  let t = 5_000;
  const now = () => t;
  // The lowest public API taking `now`: the request loop, fed by a plain listener as serveHttp1 does.
  const conns = createConnections({ headerTimeoutMs: () => 200, idleTimeoutMs: () => 60_000, now }, () => ok);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = listenOn(listener, conns, (conn) => conns.serve(conn, conn.remoteAddr, false));
  const conn = await RawConn.open(server.addr.port);
  try {
    await conn.write("GET / HTTP/1.1\r\nHost: t\r\n"); // no final CRLF: the head never completes
    // Fails if the deadline is judged by performance.now (or the timer's firing alone): 700 ms of
    // real time is 3.5 header timeouts, so a wall-clock deadline would have sent the 408 and closed.
    assert.equal(await conn.peek(700), "", "no 408 while the injected clock stands still");
    assert.equal(conn.closed, false, "the connection is still open while the clock stands still");

    t += 1_000;
    // Fails if the deadline ignored the injected clock the other way (never re-checked it, or
    // measured with another clock): then nothing arrives within the second.
    const r = await conn.readResponse({ timeoutMs: 1_000 });
    assert.equal(r.status, 408, "the head's deadline passed on the injected clock");
    assert.match(r.header("connection") ?? "", /close/i);
    assert.equal(await conn.readToEnd(1_000), "", "and the connection closes after the 408");
  } finally {
    await conn.close();
    server.close();
    await server.shutdown();
  }
});
