import assert from "node:assert/strict";
import {
  type AccessRecord,
  clfString,
  formatCommon,
  formatJson,
  jsonString,
  LineTimes,
} from "../../../lib/access_log/mod.ts";

const BASE: AccessRecord = {
  time: Date.UTC(2026, 11, 1, 10, 0, 0, 123),
  requestId: "r1",
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  clientIp: "127.0.0.1",
  method: "GET",
  host: "a.example",
  path: "/x?y=1",
  protocol: "HTTP/1.1",
  status: 200,
  bytesIn: 3,
  bytesOut: 6,
  durationMs: 1.23456,
  upstreamMs: 0.5,
  service: "default",
  route: "routes[0]",
  backend: "b0",
  attempts: 1,
  userAgent: "curl/8",
  referer: null,
};

/** Every string a client controls, each set to `value`. */
const clientFields = (value: string): AccessRecord => ({
  ...BASE,
  requestId: value,
  host: value,
  path: value,
  userAgent: value,
  referer: value,
});

/** CR, LF, NUL, quotes, backslash, DEL, Latin-1 bytes of invalid UTF-8, a lone surrogate, a tab. */
const HOSTILE = 'a\r\nb\n{"x":1}\0"\\\x7f\xc3\x28\xff\ud800\tz';

Deno.test("formatJson writes every field in order with the documented names and types", () => {
  assert.equal(
    formatJson(BASE),
    '{"time":"2026-12-01T10:00:00.123Z","request_id":"r1","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",' +
      '"client_ip":"127.0.0.1","method":"GET","host":"a.example","path":"/x?y=1","protocol":"HTTP/1.1",' +
      '"status":200,"bytes_in":3,"bytes_out":6,"duration_ms":1.235,"upstream_ms":0.5,"service":"default",' +
      '"route":"routes[0]","backend":"b0","attempts":1,"user_agent":"curl/8"}',
  );
  const none = JSON.parse(
    formatJson({ ...BASE, backend: undefined, upstreamMs: undefined, traceId: undefined }),
  );
  assert.equal(none.backend, "-");
  assert.equal(none.trace_id, "-");
  assert.equal(none.upstream_ms, null);
});

Deno.test("formatJson adds the hedge and sticky fields only when they apply", () => {
  const line = JSON.parse(
    formatJson({ ...BASE, attempts: 2, hedge: { backend: "b1", winner: "hedge" }, sticky: "set" }),
  );
  assert.equal(line.hedge_backend, "b1");
  assert.equal(line.hedge_winner, "hedge");
  assert.equal(line.sticky, "set");
  assert.equal(line.attempts, 2);
  const plain = JSON.parse(formatJson(BASE));
  assert.ok(!("hedge_backend" in plain) && !("hedge_winner" in plain) && !("sticky" in plain));
});

Deno.test("formatJson: hostile client strings stay inside their field, one ASCII line", () => {
  const line = formatJson(clientFields(HOSTILE));
  assert.match(line, /^[\x20-\x7e]+$/, "printable ASCII only: no CR, LF or raw bytes");
  const parsed = JSON.parse(line);
  for (const key of ["request_id", "host", "path", "user_agent"]) assert.equal(parsed[key], HOSTILE, key);
  assert.equal(Object.keys(parsed).length, 18, "no field was forged");
  assert.equal(parsed.status, 200);
});

Deno.test("formatCommon is NCSA combined plus the proxy's fields", () => {
  assert.equal(
    formatCommon({ ...BASE, referer: "http://r/" }),
    '127.0.0.1 - - [01/Dec/2026:10:00:00 +0000] "GET /x?y=1 HTTP/1.1" 200 6 "http://r/" "curl/8" r1 ' +
      '4bf92f3577b34da6a3ce929d0e0e4736 "default" "routes[0]" "b0" 1 0.5 1.235ms',
  );
  assert.equal(
    formatCommon({ ...BASE, bytesOut: 0, backend: undefined, upstreamMs: undefined, userAgent: null }),
    '127.0.0.1 - - [01/Dec/2026:10:00:00 +0000] "GET /x?y=1 HTTP/1.1" 200 - "-" "-" r1 ' +
      '4bf92f3577b34da6a3ce929d0e0e4736 "default" "routes[0]" "-" 1 - 1.235ms',
  );
});

Deno.test("formatCommon appends the hedge and sticky tokens only when they apply, every field kept in place", () => {
  const plain = '127.0.0.1 - - [01/Dec/2026:10:00:00 +0000] "GET /x?y=1 HTTP/1.1" 200 6 "-" "curl/8" r1 ' +
    '4bf92f3577b34da6a3ce929d0e0e4736 "default" "routes[0]" "b0" 1 0.5 1.235ms';
  assert.equal(formatCommon(BASE), plain);
  const two = plain.replace('"b0" 1 ', '"b0" 2 ');
  assert.equal(
    formatCommon({ ...BASE, attempts: 2, hedge: { backend: "b1", winner: "hedge" }, sticky: "set" }),
    `${two} hedge=b1:hedge sticky=set`,
  );
  assert.equal(
    formatCommon({ ...BASE, attempts: 2, hedge: { backend: "b1", winner: "first" } }),
    `${two} hedge=b1:first`,
  );
  assert.equal(
    formatCommon({ ...BASE, attempts: 2, hedge: { backend: "b.1-x_2", winner: "neither" } }),
    `${two} hedge=b.1-x_2:neither`,
  );
  assert.equal(formatCommon({ ...BASE, sticky: "kept" }), `${plain} sticky=kept`);
  // A backend name is never hostile, but it is escaped as every string is: still one token, one line.
  const odd = formatCommon({ ...BASE, attempts: 2, hedge: { backend: 'b"\n\xff', winner: "hedge" } });
  assert.equal(odd, `${two} hedge=b\\x22\\x0a\\xff:hedge`);
  assert.match(odd, /^[\x20-\x7e]+$/);
  // Read as documented: the plain line's fields unchanged, then `key=value` tokens.
  const line = formatCommon({ ...BASE, hedge: { backend: "b1", winner: "neither" }, sticky: "kept" });
  assert.ok(line.startsWith(`${plain} `), line);
  const extra = line.slice(plain.length + 1).split(" ").map((t) => t.split("="));
  assert.deepEqual(extra, [["hedge", "b1:neither"], ["sticky", "kept"]]);
});

Deno.test("formatCommon: hostile client strings are \\x-escaped and cannot close a quoted field", () => {
  const line = formatCommon(clientFields(HOSTILE));
  assert.match(line, /^[\x20-\x7e]+$/);
  const escaped = "a\\x0d\\x0ab\\x0a{\\x22x\\x22:1}\\x00\\x22\\x5c\\x7f\\xc3(\\xff\\ud800\\x09z";
  assert.equal(clfString(HOSTILE), escaped);
  // The quoted fields, split on unescaped quotes, are exactly the ones written.
  assert.equal(line.split('"').length, 1 + 2 * 6, line);
  assert.ok(line.includes(`"GET ${escaped} HTTP/1.1"`));
  assert.ok(line.includes(` "${escaped}" "${escaped}" ${escaped} `), "referer, user agent, request id");
});

Deno.test("jsonString escapes exactly what JSON needs plus non-ASCII", () => {
  assert.equal(jsonString("plain /a?b=c"), '"plain /a?b=c"');
  assert.equal(jsonString('q"b\\'), '"q\\"b\\\\"');
  assert.equal(jsonString("é\u2028"), '"\\u00e9\\u2028"');
  for (const s of ["", "x", HOSTILE, "\u{1f600}"]) assert.equal(JSON.parse(jsonString(s)), s);
});

Deno.test("LineTimes formats every millisecond as Date does, across seconds, days and years, in any order", () => {
  const times = new LineTimes();
  const clf = (t: number) => {
    const d = new Date(t);
    const two = (n: number) => String(n).padStart(2, "0");
    const month = d.toUTCString().split(" ")[2];
    return `${two(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:` +
      `${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
  };
  const instants: number[] = [];
  // Each side of a second, a day and a year, with sub-millisecond parts; then back in time.
  for (const edge of [Date.UTC(2026, 11, 1, 10, 0, 1), Date.UTC(2026, 11, 2), Date.UTC(2027, 0, 1)]) {
    for (let d = -3; d <= 3; d++) instants.push(edge + d, edge + d + 0.75);
  }
  instants.push(Date.UTC(2026, 11, 1, 10, 0, 0, 5), Date.UTC(2026, 11, 1, 10, 0, 0, 50), 0);
  for (const t of instants) {
    assert.equal(times.iso(t), new Date(t).toISOString(), `iso ${t}`);
    assert.equal(times.clf(t), clf(t), `clf ${t}`);
  }
  // One cache shared by both formats gives the lines a fresh one would.
  for (const t of instants) {
    const r = { ...BASE, time: t };
    assert.equal(formatJson(r, times), formatJson(r));
    assert.equal(formatCommon(r, times), formatCommon(r));
  }
});

Deno.test("formatJson and formatCommon keep a line longer than any buffer whole, escapes included", () => {
  // 10,000 characters, every 7th one needing an escape: the byte buffer grows several times over,
  // and its text is read back in more than one piece.
  let path = "/";
  for (let i = 0; path.length < 10_000; i++) {
    path += i % 7 === 0 ? "\xff" : String.fromCharCode(0x61 + (i % 26));
  }
  const json = JSON.parse(formatJson({ ...BASE, path }));
  assert.equal(json.path, path);
  const common = formatCommon({ ...BASE, path });
  assert.ok(common.includes(` ${path.replaceAll("\xff", "\\xff")} HTTP/1.1"`), "the path, escaped, in place");
  assert.match(common, /^[\x20-\x7e]+$/, "one line of printable ASCII");
});
