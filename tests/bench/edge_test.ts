/**
 * The edge benchmark's parts that need no external tool: the h2load parser, the raw WebSocket
 * client against the echo backend, and the goal rows.
 */
import assert from "node:assert/strict";
import type { EdgeResults } from "../../tools/bench/edge.ts";
import { parseH2load } from "../../tools/bench/h2load.ts";
import { edgeGoals } from "../../tools/bench/report_edge.ts";
import { serveWsEcho } from "../../tools/bench/ws_echo_backend.ts";
import { closeQuietly, echoThroughput, maskedFrame, openIdleSockets } from "../../tools/bench/ws_load.ts";

const H2LOAD = `TLS Protocol: TLSv1.3
Cipher: TLS_AES_128_GCM_SHA256
Server Temp Key: X25519 253 bits
Application protocol: h2

finished in 3.00s, 7428.33 req/s, 522.46KB/s
requests: 22285 total, 22385 started, 22285 done, 22280 succeeded, 5 failed, 1 errored, 2 timeout
status codes: 22280 2xx, 0 3xx, 3 4xx, 2 5xx
traffic: 1.53MB (1605010) total, 1.02MB (1069680) headers (space savings 51.02%), 130.58KB (133710) data
                     min         max         mean         sd        +/- sd
time for request:     1.48ms     45.62ms    812.50us      5.78ms    74.28%
`;

Deno.test("parseH2load() reads rate, mean time, errors, protocol and cipher", () => {
  const r = parseH2load(H2LOAD);
  assert.equal(r.rps, 7428.33);
  assert.equal(r.meanMs, 0.8125);
  assert.equal(r.errors, 5 + 1 + 2 + 3 + 2);
  assert.equal(r.protocol, "h2");
  assert.equal(r.tls, "TLSv1.3 TLS_AES_128_GCM_SHA256");
  assert.throws(() => parseH2load("connect failed\n"), /Cannot parse h2load output/);
});

Deno.test("maskedFrame() masks the payload and uses the 16-bit length from 126 bytes", () => {
  const mask = new Uint8Array([1, 2, 3, 4]);
  const small = maskedFrame(new Uint8Array([0, 0, 0, 0, 0]), mask);
  assert.deepEqual([...small], [0x82, 0x85, 1, 2, 3, 4, 1, 2, 3, 4, 1]);
  const big = maskedFrame(new Uint8Array(300), mask);
  assert.deepEqual([...big.subarray(0, 4)], [0x82, 0x80 | 126, 1, 44]);
  assert.equal(big.length, 4 + 4 + 300);
});

Deno.test("echoThroughput() counts echoes of the backend for a bounded time", async () => {
  const server = serveWsEcho(0);
  try {
    const started = performance.now();
    const r = await echoThroughput(server.addr.port, {
      sockets: 4,
      seconds: 0.3,
      warmupSeconds: 0.1,
      size: 200,
    });
    assert.equal(r.errors, 0, r.lastError);
    assert.ok(r.messages > 0 && r.total > r.messages, `${r.messages} of ${r.total}`);
    assert.ok(r.perSecond > 0 && r.meanRttMs > 0);
    assert.ok(r.seconds >= 0.3 && performance.now() - started < 5000, "stops after its time");
  } finally {
    await server.shutdown();
  }
});

Deno.test("echoThroughput() reports sockets that cannot open as errors instead of hanging", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const r = await echoThroughput(port, { sockets: 2, seconds: 0.1 });
  assert.equal(r.errors, 2);
  assert.equal(r.messages, 0);
});

Deno.test("openIdleSockets() opens every socket with one echo, and they stay usable", async () => {
  const server = serveWsEcho(0);
  try {
    const open = await openIdleSockets(server.addr.port, 30, 7);
    assert.equal(open.length, 30);
    open.forEach((ws) => closeQuietly(ws));
  } finally {
    await server.shutdown();
  }
});

Deno.test("edgeGoals() takes ratios to nginx and KiB per tunnel from this proxy's rows", () => {
  const runs = (rps: number) => ({ rounds: [rps, rps * 2, rps * 3], latencyMs: [1], cpuUs: [1], errors: 0 });
  const e: EdgeResults = {
    settings: {
      quick: true,
      rounds: 3,
      seconds: 1,
      h1Connections: 50,
      h2Clients: 10,
      h2Streams: 10,
      wsSockets: 50,
      wsBytes: 64,
      idleTunnels: 1000,
      only: [],
    },
    https: [
      { target: "lb round_robin", h1: runs(300), h2: runs(100), tls: "", protocol: "h2" },
      { target: "nginx", h1: runs(500), h2: runs(400), tls: "", protocol: "h2" },
    ],
    ws: [
      {
        target: "lb round_robin",
        rounds: [6],
        meanRttMs: [1],
        cpuUs: [1],
        backendCpuUs: [1],
        errors: 0,
        lastError: "",
      },
      {
        target: "nginx",
        rounds: [10],
        meanRttMs: [1],
        cpuUs: [1],
        backendCpuUs: [1],
        errors: 0,
        lastError: "",
      },
    ],
    idle: [{
      target: "lb round_robin",
      tunnels: 1000,
      beforeKiB: 10_000,
      withKiB: 40_000,
      afterCloseKiB: 10_000,
    }],
    notes: [],
  };
  const goals = edgeGoals(e);
  assert.deepEqual(goals.map((g) => [Number(g.measured.toFixed(2)), g.met]), [
    [0.6, true],
    [0.25, false],
    [0.6, true],
    [30, true],
  ]);
  assert.equal(goals[3].goal, "RSS per idle WebSocket tunnel, 1000 open (KiB)");
});
