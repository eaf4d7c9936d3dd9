/**
 * WebSockets through the proxy with a real client and server (the npm `ws` package on both ends):
 * the Upgrade is forwarded, the 101 turns both connections into a byte tunnel, and everything a
 * WebSocket does crosses it unchanged.
 */
import assert from "node:assert/strict";
import { scrape, startLb, type TestLb, waitFor } from "../../_util/harness.ts";
import { HOP_BY_HOP, RawConn } from "../../_util/raw_http.ts";
import { within } from "../../_util/tools.ts";
import { closed, nextMessage, openClient, startWsBackend, type WsBackend } from "../../_util/ws.ts";

async function setup(extra = ""): Promise<{ lb: TestLb; be: WsBackend; ws: string; close(): Promise<void> }> {
  const be = await startWsBackend();
  const lb = await startLb([be.url], extra);
  return {
    lb,
    be,
    ws: `ws://127.0.0.1:${lb.proxyAddr.port}`,
    close: async () => {
      await lb.shutdown();
      await be.close();
    },
  };
}

Deno.test("WebSocket echo of text, binary and 1 MB messages through the proxy", async () => {
  const { lb, be, ws: url, close } = await setup();
  try {
    const ws = await openClient(`${url}/chat?room=1`);
    assert.equal(be.upgrades[0]["x-forwarded-for"], "127.0.0.1");
    assert.equal(be.upgrades[0]["upgrade"], "websocket");
    ws.send("hello");
    assert.deepEqual((await nextMessage(ws)).map(String), ["hello", "false"]);
    const bytes = new Uint8Array([0, 1, 2, 255, 254]);
    ws.send(bytes);
    const [echo, binary] = await nextMessage(ws);
    assert.equal(binary, true);
    assert.deepEqual([...echo], [...bytes]);
    const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
    ws.send(big);
    const [back] = await nextMessage(ws);
    assert.equal(back.length, big.length);
    assert.ok(back.equals(big), "1 MB arrives byte for byte");
    const m = await scrape(lb);
    assert.equal(m.get('lb_open_tunnels{service="default",backend="b0"}'), 1);
    assert.equal(m.get('lb_active_connections{service="default",backend="b0"}'), 1, "a tunnel is in flight");
    ws.close(1000, "done");
    assert.deepEqual(await closed(ws), [1000, "done"]);
    await waitFor(async () =>
      (await scrape(lb)).get('lb_open_tunnels{service="default",backend="b0"}') === 0
    );
    assert.equal((await scrape(lb)).get('lb_active_connections{service="default",backend="b0"}'), 0);
    assert.equal(
      (await scrape(lb)).get(
        'lb_requests_total{service="default",backend="b0",strategy="round_robin",method="GET",code="101",protocol="http/1.1"}',
      ),
      1,
    );
  } finally {
    await close();
  }
});

Deno.test("lb_open_tunnels keeps counting open tunnels across a strategy switch", async () => {
  const { lb, ws: url, close } = await setup();
  try {
    const ws = await openClient(`${url}/chat`);
    const tunnels = async () => (await scrape(lb)).get('lb_open_tunnels{service="default",backend="b0"}');
    assert.equal(await tunnels(), 1);
    const put = await fetch(`${lb.adminUrl}/api/strategy`, {
      method: "PUT",
      body: JSON.stringify({ strategy: "least_connections" }),
    });
    assert.equal(put.status, 200, await put.text());
    assert.equal(await tunnels(), 1, "the switch does not reset the gauge");
    ws.close(1000, "done");
    await closed(ws);
    await waitFor(async () => (await tunnels()) === 0, 5000, "the tunnel to close");
  } finally {
    await close();
  }
});

Deno.test("WebSocket ping/pong and close codes cross the tunnel both ways", async () => {
  const { be, ws: url, close } = await setup();
  try {
    const ws = await openClient(url);
    const pong = new Promise<string>((r) => ws.once("pong", (data: Buffer) => r(data.toString())));
    ws.ping("are you there");
    assert.equal(await pong, "are you there", "the backend's pong answers the client's ping");
    const serverPing = new Promise<string>((r) => ws.once("ping", (data: Buffer) => r(data.toString())));
    be.sockets[0].ping("and you?");
    assert.equal(await serverPing, "and you?");
    const seen = new Promise<[number, string]>((r) =>
      be.sockets[0].once("close", (code: number, reason: Buffer) => r([code, reason.toString()]))
    );
    ws.close(4001, "client leaving");
    assert.deepEqual(await seen, [4001, "client leaving"], "the backend sees the client's close code");
    const ws2 = await openClient(url);
    be.sockets[1].close(4002, "server says bye");
    assert.deepEqual(
      await closed(ws2),
      [4002, "server says bye"],
      "the client sees the backend's close code",
    );
  } finally {
    await close();
  }
});

Deno.test("a backend killed mid-stream closes the client's socket at once", async () => {
  const { lb, be, ws: url, close } = await setup();
  try {
    const ws = await openClient(url);
    ws.send("x");
    await nextMessage(ws);
    const t0 = performance.now();
    be.sockets[0].terminate(); // a reset, no close frame
    const [code] = await closed(ws, 2000);
    assert.equal(code, 1006, "abnormal closure: the tunnel ended with the backend's connection");
    assert.ok(performance.now() - t0 < 1000);
    await waitFor(async () =>
      (await scrape(lb)).get('lb_open_tunnels{service="default",backend="b0"}') === 0
    );
  } finally {
    await close();
  }
});

Deno.test("1,000 concurrent WebSockets through one proxy, each echoing its own messages", async () => {
  const { lb, ws: url, close } = await setup();
  try {
    const sockets = [];
    for (let batch = 0; batch < 10; batch++) {
      sockets.push(...await Promise.all(Array.from({ length: 100 }, () => openClient(url))));
    }
    assert.equal((await scrape(lb)).get('lb_open_tunnels{service="default",backend="b0"}'), 1000);
    const replies = await Promise.all(sockets.map(async (ws, i) => {
      const next = nextMessage(ws, 10_000);
      ws.send(`m${i}`);
      return String((await next)[0]);
    }));
    assert.deepEqual(replies, sockets.map((_, i) => `m${i}`));
    await Promise.all(sockets.map((ws) => {
      const done = closed(ws, 10_000);
      ws.close(1000);
      return done;
    }));
    await waitFor(
      async () => (await scrape(lb)).get('lb_open_tunnels{service="default",backend="b0"}') === 0,
      10_000,
    );
  } finally {
    await close();
  }
});

Deno.test("a tunnel's lifetime is not a request duration: lb_request_duration_seconds sees the time to the 101", async () => {
  const { lb, ws: url, close } = await setup();
  const series = '{service="default",backend="b0",strategy="round_robin"}';
  const bucket = (le: string) => `lb_request_duration_seconds_bucket{le="${le}",${series.slice(1)}`;
  try {
    const ws = await openClient(`${url}/chat`);
    ws.send("hello");
    await nextMessage(ws);
    await new Promise((r) => setTimeout(r, 700)); // open longer than the latency SLO's 0.5 s
    ws.close(1000, "done");
    await closed(ws);
    await waitFor(async () => (await scrape(lb)).get(`lb_request_duration_seconds_count${series}`) === 1);
    const m = await scrape(lb);
    assert.equal(m.get(bucket("0.5")), 1, "observed as the handshake, well within 0.5 s");
    assert.ok(m.get(`lb_request_duration_seconds_sum${series}`)! < 0.5);
  } finally {
    await close();
  }
});

Deno.test("a non-101 answer to an upgrade request is an ordinary response", async () => {
  const { startBackend } = await import("../../_util/harness.ts");
  const plain = startBackend((req) =>
    new Response(`no upgrade for ${req.headers.get("upgrade")}`, { status: 426 })
  );
  const lb = await startLb([plain.url]);
  try {
    const r = await fetch(lb.url, { headers: { connection: "upgrade", upgrade: "websocket" } });
    assert.equal(r.status, 426);
    assert.equal(await r.text(), "no upgrade for websocket", "the Upgrade reached the backend");
    assert.equal((await fetch(lb.url)).status, 426, "the connection carries on as HTTP");
  } finally {
    await lb.shutdown();
    await plain.close();
  }
});

Deno.test("a client that stops reading stalls the backend instead of growing the proxy's buffers", async () => {
  const { RawConn } = await import("../../_util/raw_http.ts");
  let flood!: (socket: import("../../_util/ws.ts").WebSocket) => Promise<number>;
  const floodDone = new Promise<number>((resolve) => {
    flood = async (socket) => {
      // 1 MB messages until the backend itself holds 32 MB it cannot send: the proxy stopped
      // reading. Bounded: at most 256 MB or 10 s.
      const chunk = new Uint8Array(1024 * 1024);
      const started = performance.now();
      let sent = 0;
      while (socket.bufferedAmount < 32 * 1024 * 1024 && sent < 256 && performance.now() - started < 10_000) {
        socket.send(chunk);
        sent++;
        await new Promise((r) => setTimeout(r, 1));
      }
      resolve(sent);
      return sent;
    };
  });
  const be = await startWsBackend((socket) => void flood(socket));
  const lb = await startLb([be.url]);
  const conn = await RawConn.open(lb.proxyAddr.port);
  try {
    await conn.write(
      "GET /flood HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    const head = await conn.readUntil("\r\n\r\n");
    assert.match(head, /^HTTP\/1\.1 101 /);
    const sent = await floodDone; // the client has read nothing but the head
    console.log(`backend stalled after ${sent} MB with 32 MB of its own unsent`);
    assert.ok(sent < 256, `backpressure reached the backend after ${sent} MB (it never filled)`);
    assert.ok(be.sockets[0].bufferedAmount >= 32 * 1024 * 1024);
    // Reading again drains it all: nothing was dropped.
    const total = sent * (1024 * 1024 + 10); // each 1 MB binary frame has a 10-byte header
    const received = await conn.drain(total, 20_000);
    assert.ok(received >= total, `received ${received} of ${total} bytes`);
  } finally {
    await conn.close();
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("timeouts.tunnel_idle closes a tunnel with no bytes either way, and only that one", async () => {
  const { lb, ws: url, close } = await setup("timeouts: {tunnel_idle: 300ms}");
  try {
    // Timed from before the handshake: the idle time runs from the 101, which comes later.
    const t0 = performance.now();
    const idle = await openClient(url);
    const chatty = await openClient(url);
    const idleClosed = closed(idle, 3000);
    const timer = setInterval(() => chatty.send("tick"), 50);
    const [code] = await idleClosed;
    clearInterval(timer);
    const after = performance.now() - t0;
    assert.equal(code, 1006);
    assert.ok(after >= 250, `closed after ${after.toFixed(0)} ms, not before the idle time`);
    assert.equal(chatty.readyState, 1, "the tunnel that carried bytes is still open");
    assert.equal((await scrape(lb)).get('lb_open_tunnels{service="default",backend="b0"}'), 1);
    chatty.close();
  } finally {
    await close();
  }
});

Deno.test("graceful shutdown keeps tunnels working until shutdown_timeout, then closes them", async () => {
  const { lb, ws: url, close } = await setup("shutdown_timeout: 600ms");
  try {
    const ws = await openClient(url);
    const t0 = performance.now();
    const stopped = lb.shutdown();
    await new Promise((r) => setTimeout(r, 200));
    ws.send("still there?");
    assert.equal(String((await nextMessage(ws))[0]), "still there?", "open during the drain");
    const [code] = await closed(ws, 3000);
    await stopped;
    const after = performance.now() - t0;
    assert.equal(code, 1006);
    assert.ok(after >= 550, `tunnel closed after ${after.toFixed(0)} ms: at shutdown_timeout, not before`);
  } finally {
    await close();
  }
});

/** A WebSocket handshake's request head, with `fields` (CRLF-ended lines) before the blank line. */
const upgradeHead = (path: string, fields = "Connection: Upgrade\r\n") =>
  `GET ${path} HTTP/1.1\r\nHost: t\r\n${fields}Upgrade: websocket\r\n` +
  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

Deno.test("an upgrade forwards Upgrade and Connection: upgrade only, never the other hop-by-hop fields", async () => {
  // Fails if the proxy forwards any of Keep-Alive, Proxy-Connection, TE or the X-Secret field the
  // client's Connection names, or passes the client's own Connection value (`upgrade, x-secret`)
  // on instead of its own `upgrade`: the backend would see them in its upgrade request.
  const { be, lb, close } = await setup();
  const conn = await RawConn.open(lb.proxyAddr.port);
  try {
    await conn.write(upgradeHead(
      "/hop",
      "Connection: upgrade, x-secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\n" +
        "Proxy-Connection: keep-alive\r\nTE: trailers\r\nX-Custom: kept\r\n",
    ));
    assert.match(await conn.readUntil("\r\n\r\n"), /^HTTP\/1\.1 101 /);
    assert.equal(be.upgrades.length, 1);
    const got = be.upgrades[0];
    const hop = Object.fromEntries(
      Object.entries(got).filter(([name]) => HOP_BY_HOP.includes(name) || name === "x-secret"),
    );
    assert.deepEqual(hop, { connection: "upgrade", upgrade: "websocket" }, JSON.stringify(got));
    assert.equal(got["x-custom"], "kept", "an end-to-end field passes");
    assert.equal(got["sec-websocket-key"], "dGhlIHNhbXBsZSBub25jZQ==");
  } finally {
    await conn.close();
    await close();
  }
});

Deno.test("a client's TCP reset mid-tunnel closes the backend's socket at once and the tunnel gauge", async () => {
  // Fails if the proxy's client-to-backend pump does not end the tunnel on ECONNRESET (only on an
  // orderly EOF): the backend's socket would stay open past 1 s and lb_open_tunnels would stay 1.
  const { be, lb, close } = await setup();
  const net = await import("node:net");
  // node:net, for `resetAndDestroy()`: SO_LINGER 0, so the close is an RST and no FIN comes first
  // (Deno.Conn.close() shuts the write side down first, which the proxy would see as a plain EOF).
  const socket = net.connect(lb.proxyAddr.port, "127.0.0.1");
  try {
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    let head = "";
    const switched = new Promise<string>((resolve) =>
      socket.on("data", (chunk: Uint8Array) => {
        head += new TextDecoder().decode(chunk);
        if (head.includes("\r\n\r\n")) resolve(head);
      })
    );
    socket.write(upgradeHead("/reset"));
    assert.match(await within(switched, 2000, "the 101"), /^HTTP\/1\.1 101 /);
    const tunnels = async () => (await scrape(lb)).get('lb_open_tunnels{service="default",backend="b0"}');
    assert.equal(await tunnels(), 1);
    await waitFor(() => be.sockets.length === 1, 2000, "the backend's socket");
    const backendClosed = new Promise<number>((r) => be.sockets[0].once("close", (code: number) => r(code)));
    const t0 = performance.now();
    socket.resetAndDestroy();
    const code = await within(backendClosed, 1000, "the backend's socket closing after the client's reset");
    const after = performance.now() - t0;
    assert.equal(code, 1006, "no close frame: the connection itself went away");
    assert.ok(after < 1000, `backend socket closed ${after.toFixed(0)} ms after the reset`);
    await waitFor(async () => (await tunnels()) === 0, 2000, "lb_open_tunnels back to 0");
  } finally {
    socket.destroy();
    await close();
  }
});

Deno.test("a client that drops its socket without a close frame (ws.terminate) ends the backend's side", async () => {
  // Fails if the proxy does not pass the client's end of the connection on to the backend: the
  // backend's socket would stay open past 1 s and lb_open_tunnels would stay at 1.
  const { be, lb, ws: url, close } = await setup();
  try {
    const ws = await openClient(`${url}/terminate`);
    ws.send("x");
    await nextMessage(ws);
    const backendClosed = new Promise<number>((r) => be.sockets[0].once("close", (code: number) => r(code)));
    const t0 = performance.now();
    ws.terminate(); // destroys the socket: no close frame
    const code = await within(backendClosed, 1000, "the backend's socket closing after terminate()");
    assert.equal(code, 1006);
    assert.ok(performance.now() - t0 < 1000);
    await waitFor(
      async () => (await scrape(lb)).get('lb_open_tunnels{service="default",backend="b0"}') === 0,
      2000,
      "lb_open_tunnels back to 0",
    );
  } finally {
    await close();
  }
});

Deno.test("least_connections counts an open tunnel: plain requests go to the other backend until it closes", async () => {
  // Fails if a tunnel does not keep its backend in flight once the 101 is answered: the two
  // backends would tie at 0 and each request would go either way at random (all 10 to the idle
  // one by chance: 1 in 1024). And if closing the tunnel did not release it, the 30 requests after
  // it would all go to the idle backend again.
  const bes = [await startWsBackend(), await startWsBackend()];
  const lb = await startLb(bes.map((b) => b.url), "strategy: least_connections");
  try {
    const ws = await openClient(`ws://127.0.0.1:${lb.proxyAddr.port}/held`);
    const holder = bes.findIndex((b) => b.upgrades.length === 1);
    assert.notEqual(holder, -1, "one backend took the upgrade");
    const other = bes[1 - holder];
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${lb.url}/plain/${i}`);
      assert.equal(r.status, 404, "the ws backend's answer to a plain request");
      await r.body?.cancel();
    }
    assert.deepEqual(bes[holder].requests, [], "no plain request reached the backend holding the tunnel");
    assert.equal(other.requests.length, 10);
    const m = await scrape(lb);
    assert.equal(m.get(`lb_active_connections{service="default",backend="b${holder}"}`), 1);
    ws.close(1000);
    await closed(ws);
    await waitFor(
      async () => (await scrape(lb)).get(`lb_open_tunnels{service="default",backend="b${holder}"}`) === 0,
      2000,
      "the tunnel to close",
    );
    for (let i = 0; i < 30; i++) await (await fetch(`${lb.url}/after/${i}`)).body?.cancel();
    assert.ok(bes[holder].requests.length > 0, "once closed, the backend is picked again");
  } finally {
    await lb.shutdown();
    await Promise.all(bes.map((b) => b.close()));
  }
});
