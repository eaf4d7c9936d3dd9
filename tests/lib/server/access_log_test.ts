/** The access log on a real proxy: one line per exchange with the documented fields, on real sockets. */

import assert from "node:assert/strict";
import { exchange, octets } from "../../_util/raw_http.ts";
import { startRawBackend } from "../../_util/raw_backend.ts";
import { scrape, startBackend, startLb, startLbFrom, waitFor } from "../../_util/harness.ts";
import { closed, nextMessage, openClient, startWsBackend } from "../../_util/ws.ts";
import { parseConfig } from "../../../lib/config/config.ts";
import { startLoadBalancer } from "../../../lib/server/start.ts";
import { ListenError } from "../../../lib/server/mod.ts";

const HEALTH =
  "health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";

/** Read the log file as parsed JSON lines (after a shutdown flushed it). */
async function lines(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text === "" || text.endsWith("\n"), "whole lines only");
  return text.split("\n").filter((l) => l !== "").map((l) => {
    assert.match(l, /^[\x20-\x7e]+$/, `one printable ASCII line: ${l}`);
    return JSON.parse(l);
  });
}

Deno.test("access log: one JSON line per request with every documented field", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/access.log`;
  const traceparents: (string | null)[] = [];
  const be = startBackend(async (req) => {
    traceparents.push(req.headers.get("traceparent"));
    return new Response(`got ${(await req.arrayBuffer()).byteLength}`);
  });
  const lb = await startLb([be.url], `access_log: {enabled: true, path: "${path}"}`);
  try {
    const r = await fetch(`${lb.url}/up?x=1`, {
      method: "POST",
      body: "x".repeat(1000),
      headers: { "user-agent": "test-agent/1", "x-request-id": "req-42" },
    });
    assert.equal(await r.text(), "got 1000");
    await lb.shutdown();
    const [line] = await lines(path);
    assert.deepEqual(Object.keys(line), [
      "time",
      "request_id",
      "trace_id",
      "client_ip",
      "method",
      "host",
      "path",
      "protocol",
      "status",
      "bytes_in",
      "bytes_out",
      "duration_ms",
      "upstream_ms",
      "service",
      "route",
      "backend",
      "attempts",
      "user_agent",
    ]);
    assert.match(line.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Math.abs(Date.parse(line.time as string) - Date.now()) < 60_000);
    const tp = traceparents[0]!;
    assert.deepEqual({ ...line, time: 0, duration_ms: 0, upstream_ms: 0 }, {
      time: 0,
      request_id: "req-42",
      trace_id: tp.slice(3, 35),
      client_ip: "127.0.0.1",
      method: "POST",
      host: `127.0.0.1:${lb.proxyAddr.port}`,
      path: "/up?x=1",
      protocol: "HTTP/1.1",
      status: 200,
      bytes_in: 1000,
      bytes_out: 8,
      duration_ms: 0,
      upstream_ms: 0,
      service: "default",
      route: "routes[0]",
      backend: "b0",
      attempts: 1,
      user_agent: "test-agent/1",
    });
    assert.ok(
      (line.upstream_ms as number) > 0 && (line.upstream_ms as number) <= (line.duration_ms as number),
    );
  } finally {
    await lb.shutdown();
    await be.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Quotes, backslashes, a forged JSON tail and bytes that are not UTF-8 (0xc3 0x28, 0xff). */
const EVIL = '"\\"},{"status":999\xc3\x28\xff';
/** {@link EVIL} as JSON writes it: `"` and `\` escaped, bytes past `~` as `\u00XX`. */
const EVIL_JSON = String.raw`\"\\\"},{\"status\":999\u00c3(\u00ff`;
/** {@link EVIL} as the common format writes it: `"`, `\` and bytes past `~` as `\xHH`. */
const EVIL_CLF = String.raw`\x22\x5c\x22},{\x22status\x22:999\xc3(\xff`;

/** A JSON line with its time, trace id and timings as `T`, `TID`, `D` and `U` (`null` kept). */
const normalizeJson = (l: string) =>
  l.replace(/^\{"time":"[^"]+"/, '{"time":"T"')
    .replace(/"trace_id":"[0-9a-f]{32}"/, '"trace_id":"TID"')
    .replace(/"duration_ms":[\d.]+,"upstream_ms":([\d.]+|null)/, (_m, up) =>
      `"duration_ms":D,"upstream_ms":${up === "null" ? "null" : "U"}`);

/** A common line with its time, trace id and timings as `T`, `TID`, `U` and `D` (`-` kept). */
const normalizeCommon = (l: string) =>
  l.replace(/ \[[^\]]+\] /, " [T] ")
    .replace(/ [0-9a-f]{32} "/, ' TID "')
    .replace(/ ([\d.]+|-) [\d.]+ms$/, (_m, up) => ` ${up === "-" ? "-" : "U"} Dms`);

Deno.test("access log: hostile bytes in every client-controlled field cannot split or forge a line", async (t) => {
  // Quotes, backslashes, a forged JSON tail and bytes that are not UTF-8 (0xc3 0x28, 0xff) in
  // the target, Host, User-Agent, Referer and X-Request-Id; CR and LF cannot cross the listener at all.
  // The heads go over a real socket as raw octets (`exchange` writes one byte per char: "\xff" is
  // the byte 0xff), to a raw backend: a server library would refuse them before the log is tested.
  const hostile = (requestId: string) =>
    `GET /a%22?q="},{"x":1}&\xff HTTP/1.1\r\nHost: h${EVIL}\r\nUser-Agent: ua${EVIL}\r\n` +
    `X-Request-Id: ${requestId}\r\nReferer: r${EVIL}\r\nConnection: close\r\n\r\n`;
  // A bare CR, a bare LF or a CRLF inside a value breaks the field line: the head is refused (400),
  // and its line (method and path `-`) holds none of the injected text.
  const splitting = [
    `GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: ua\r{"status":999,"path":"/forged-cr"}\r\nConnection: close\r\n\r\n`,
    `GET / HTTP/1.1\r\nHost: a\r\nReferer: r\n{"status":999,"path":"/forged-lf"}\r\nConnection: close\r\n\r\n`,
    `GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: id\r\n{"status":999,"path":"/forged-crlf"}\r\nConnection: close\r\n\r\n`,
  ];
  for (const format of ["json", "common"] as const) {
    await t.step(format, async () => {
      const dir = await Deno.makeTempDir();
      const path = `${dir}/access.log`;
      const be = startRawBackend(async (_head, conn) => {
        await conn.write(octets("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
      });
      const lb = await startLb([be.url], `access_log: {enabled: true, path: "${path}", format: ${format}}`);
      try {
        // Printable but quoted and backslashed: the proxy keeps this request id as sent.
        const kept = await exchange(lb.proxyAddr.port, hostile('id"\\x'));
        assert.equal(kept.status, 200);
        assert.equal(kept.header("x-request-id"), 'id"\\x');
        // Not printable ASCII (0xc3 0x28 0xff, and the rest of EVIL): not a sane request id, so the
        // proxy draws its own, which the line carries; the client's bytes reach no line.
        const replaced = await exchange(lb.proxyAddr.port, hostile(`id${EVIL}`));
        assert.equal(replaced.status, 200);
        const uuid = replaced.header("x-request-id")!;
        assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        for (const req of splitting) assert.equal((await exchange(lb.proxyAddr.port, req)).status, 400, req);
        await lb.shutdown();
        const text = await Deno.readTextFile(path);
        assert.ok(text.endsWith("\n"), "whole lines only");
        const got = text.slice(0, -1).split("\n");
        for (const l of got) assert.match(l, /^[\x20-\x7e]+$/, `one printable ASCII line: ${l}`);
        assert.equal(got.length, 2 + splitting.length, "one line per request, no more");
        // (Not `999,`: a timing such as `"duration_ms":0.999,` has it.)
        assert.ok(
          !text.includes("forged") && !/"status":999\b/.test(text),
          "no injected text reached the log",
        );
        // Each line exactly, with only the time, trace id and timings (which vary) normalized.
        const norm = got.map((l) => format === "json" ? normalizeJson(l) : normalizeCommon(l)).sort();
        const ok = (id: string) =>
          format === "json"
            ? `{"time":"T","request_id":"${id}","trace_id":"TID","client_ip":"127.0.0.1","method":"GET",` +
              `"host":"h${EVIL_JSON}","path":"/a%22?q=\\"},{\\"x\\":1}&\\u00ff","protocol":"HTTP/1.1",` +
              `"status":200,"bytes_in":0,"bytes_out":2,"duration_ms":D,"upstream_ms":U,"service":"default",` +
              `"route":"routes[0]","backend":"b0","attempts":1,"user_agent":"ua${EVIL_JSON}"}`
            : `127.0.0.1 - - [T] "GET /a%22?q=\\x22},{\\x22x\\x22:1}&\\xff HTTP/1.1" 200 2 "r${EVIL_CLF}" ` +
              `"ua${EVIL_CLF}" ${id} TID "default" "routes[0]" "b0" 1 U Dms`;
        const refused = format === "json"
          ? '{"time":"T","request_id":"-","trace_id":"-","client_ip":"127.0.0.1","method":"-","host":"-",' +
            '"path":"-","protocol":"HTTP/1.1","status":400,"bytes_in":0,"bytes_out":0,"duration_ms":D,' +
            '"upstream_ms":null,"service":"-","route":"-","backend":"-","attempts":0,"user_agent":"-"}'
          : '127.0.0.1 - - [T] "- - HTTP/1.1" 400 - "-" "-" - - "-" "-" "-" 0 - Dms';
        const keptId = format === "json" ? String.raw`id\"\\x` : String.raw`id\x22\x5cx`;
        assert.deepEqual(norm, [ok(keptId), ok(uuid), refused, refused, refused].sort());
        if (format === "json") {
          // And parsed back, each field is exactly the bytes the client sent, one char per byte.
          const parsed = got.map((l) => JSON.parse(l)).filter((l) => l.status === 200);
          for (const line of parsed) {
            assert.equal(line.path, '/a%22?q="},{"x":1}&\xff');
            assert.equal(line.host, `h${EVIL}`);
            assert.equal(line.user_agent, `ua${EVIL}`);
            assert.equal(Object.keys(line).length, 18, "no field was forged");
          }
          assert.deepEqual(parsed.map((l) => l.request_id).sort(), ['id"\\x', uuid].sort());
        }
      } finally {
        await lb.shutdown();
        await be.close();
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

Deno.test("access log: 404, 503, retried 200, refused heads, in the common format", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/access.log`;
  const be = startBackend(() => new Response("ok"));
  // Healthy to its checks, but it closes every request's connection unanswered: a reset, retried.
  const flaky = startRawBackend((_head, conn) => conn.close());
  const down = startBackend();
  down.healthy = false;
  const lb = await startLbFrom(
    `${HEALTH}\naccess_log: {enabled: true, path: "${path}", format: common}\n` +
      `passive: {consecutive_failures: 0}\nstrategy: round_robin\n` +
      `services:\n  app:\n    backends:\n      - {name: flaky, url: "${flaky.url}"}\n` +
      `      - {name: live, url: "${be.url}"}\n` +
      `  gone:\n    backends: [{name: sick, url: "${down.url}"}]\n` +
      `routes:\n  - {name: app, match: {path_prefix: /app}, service: app}\n` +
      `  - {name: gone, match: {path_prefix: /gone}, service: gone}\n`,
  );
  try {
    // Round robin: of two requests, one goes to flaky first and is retried on live.
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${lb.url}/app/x`, { headers: { "user-agent": "c" } });
      assert.equal(await r.text(), "ok");
    }
    assert.equal((await fetch(`${lb.url}/nowhere`, { headers: { "user-agent": "c" } })).status, 404);
    assert.equal((await fetch(`${lb.url}/gone`, { headers: { "user-agent": "c" } })).status, 503);
    const bad = await exchange(lb.proxyAddr.port, "GET /x HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n");
    assert.equal(bad.status, 400);
    await lb.shutdown();
    const got = (await Deno.readTextFile(path)).trimEnd().split("\n");
    const stamp = / \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] /;
    const ids = / [0-9a-f-]{36} [0-9a-f]{32} /;
    const norm = got.map((l) => {
      assert.match(l, stamp);
      return l.replace(stamp, " [T] ").replace(ids, " RID TID ").replace(
        / (\d+\.?\d*|-) \d+\.?\d*ms$/,
        (_m, up) => ` ${up === "-" ? "-" : "UP"} DURms`,
      );
    });
    // Error bodies name the port, so their length varies: N.
    const lines = norm.map((l) => l.replace(/" (404|503) \d+ "/, '" $1 N "')).sort();
    const retried =
      '127.0.0.1 - - [T] "GET /app/x HTTP/1.1" 200 2 "-" "c" RID TID "app" "app" "live" 2 UP DURms';
    const direct = retried.replace('"live" 2', '"live" 1');
    assert.ok(lines.includes(retried), "the reset on flaky was retried on live: 2 attempts");
    assert.deepEqual(lines.filter((l) => l !== retried && l !== direct).sort(), [
      '127.0.0.1 - - [T] "- - HTTP/1.1" 400 - "-" "-" - - "-" "-" "-" 0 - DURms',
      '127.0.0.1 - - [T] "GET /gone HTTP/1.1" 503 N "-" "c" RID TID "gone" "gone" "-" 0 - DURms',
      '127.0.0.1 - - [T] "GET /nowhere HTTP/1.1" 404 N "-" "c" - - "-" "-" "-" 0 - DURms',
    ]);
    assert.equal(lines.length, 5);
  } finally {
    await lb.shutdown();
    await be.close();
    await flaky.close();
    await down.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("access log: a WebSocket tunnel is one line with status 101 and the bytes both ways", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/access.log`;
  const ws = await startWsBackend();
  const lb = await startLb([ws.url], `access_log: {enabled: true, path: "${path}"}`);
  try {
    const client = await openClient(`ws://127.0.0.1:${lb.proxyAddr.port}/chat`);
    client.send("x".repeat(1000));
    assert.equal((await nextMessage(client))[0].length, 1000);
    client.close(1000);
    await closed(client);
    await lb.shutdown();
    const [line] = await lines(path);
    assert.equal(line.status, 101);
    assert.equal(line.path, "/chat");
    assert.equal(line.backend, "b0");
    // 1000 bytes of payload plus WebSocket framing (client frames are masked: 8 more bytes).
    assert.ok((line.bytes_in as number) >= 1006 && (line.bytes_in as number) < 1100, String(line.bytes_in));
    assert.ok(
      (line.bytes_out as number) >= 1004 && (line.bytes_out as number) < 1100,
      String(line.bytes_out),
    );
  } finally {
    await lb.shutdown();
    await ws.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("access log: reload turns it on and moves it; a file that cannot be opened fails the reload", async () => {
  const dir = await Deno.makeTempDir();
  const be = startBackend();
  const configPath = `${dir}/lb.yml`;
  const write = (log: string) =>
    Deno.writeTextFile(
      configPath,
      `listen: "127.0.0.1:${lb.proxyAddr.port}"\nadmin: {listen: "127.0.0.1:${lb.adminAddr.port}"}\n${HEALTH}\n` +
        `${log}\nbackends: [{name: b0, url: "${be.url}"}]\n`,
    );
  const { loadConfig } = await import("../../../lib/config/config.ts");
  const lb = await startLb([be.url], "", { configSource: () => loadConfig(configPath, () => undefined) });
  try {
    await (await fetch(`${lb.url}/before`)).text();
    await write(`access_log: {enabled: true, path: "${dir}/a.log"}`);
    assert.equal((await lb.reload()).ok, true);
    await (await fetch(`${lb.url}/one`)).text();
    await write(`access_log: {enabled: true, path: "${dir}/b.log"}`);
    assert.equal((await lb.reload()).ok, true);
    await (await fetch(`${lb.url}/two`)).text();
    await write(`access_log: {enabled: true, path: "${dir}/missing/c.log"}`);
    const failed = await lb.reload();
    assert.equal(failed.ok, false);
    assert.deepEqual(
      "errors" in failed ? failed.errors : [],
      [`access_log.path: cannot open ${dir}/missing/c.log: no such directory`],
    );
    await (await fetch(`${lb.url}/three`)).text();
    await lb.shutdown();
    assert.deepEqual((await lines(`${dir}/a.log`)).map((l) => l.path), ["/one"]);
    assert.deepEqual((await lines(`${dir}/b.log`)).map((l) => l.path), ["/two", "/three"]);
  } finally {
    await lb.shutdown();
    await be.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("access log: a path that cannot be opened at start is one line, and nothing keeps running", async () => {
  const r = parseConfig(
    `listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\naccess_log: {enabled: true, path: /nonexistent/dir/a.log}\n` +
      `backends: [{url: "http://127.0.0.1:1"}]`,
  );
  assert.ok(r.ok);
  await assert.rejects(
    startLoadBalancer(r.config, { processMetrics: false, log: () => {} }),
    (e: Error) =>
      e instanceof ListenError &&
      e.message === "access_log.path: cannot open /nonexistent/dir/a.log: no such directory",
  );
});

Deno.test("access log: reopenLogs after a rename (logrotate) writes to a new file; drops are exported", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/access.log`;
  const be = startBackend();
  const lb = await startLb([be.url], `access_log: {enabled: true, path: "${path}"}`);
  try {
    await (await fetch(`${lb.url}/first`)).text();
    await waitFor(async () => (await Deno.readTextFile(path)).includes("/first"), 5000, "the first line");
    await Deno.rename(path, `${path}.1`);
    await (await fetch(`${lb.url}/still-old-file`)).text();
    await lb.reopenLogs();
    await (await fetch(`${lb.url}/second`)).text();
    const m = await scrape(lb);
    assert.equal(m.get('lb_access_log_dropped_total{reason="buffer_full"}'), 0);
    assert.equal(m.get('lb_access_log_dropped_total{reason="write_error"}'), 0);
    await lb.shutdown();
    assert.deepEqual((await lines(`${path}.1`)).map((l) => l.path), ["/first", "/still-old-file"]);
    assert.deepEqual((await lines(path)).map((l) => l.path), ["/second"]);
  } finally {
    await lb.shutdown();
    await be.close();
    await Deno.remove(dir, { recursive: true });
  }
});
