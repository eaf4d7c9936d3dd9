/**
 * Hostile input on the public listener: a seeded raw-socket fuzz of 10,000+ requests, judged at
 * both ends, the status each client reads and the raw bytes the backend received for each case.
 *
 * Each case goes out one of three ways: alone on a fresh socket with `Connection: close`; on a
 * keep-alive connection after a valid request; or pipelined, with a valid request written right
 * behind it in the same write. The backend is a raw TCP server that frames bodies itself
 * (tests/_util/raw_backend.ts), so nothing a library does on its own hides what arrived. Per class:
 *
 * - valid requests get 200 and arrive exactly once, whole, with the proxy's headers, and the
 *   request behind them arrives too, after them;
 * - a request refused for its head gets its documented status (400, 431, 501 or 505) and nothing
 *   of it, or of anything behind it, arrives;
 * - a request refused for its body gets its documented status (400 for broken chunked framing,
 *   499 for a client that ended its side mid-body); when its body streams (a POST, never
 *   buffered for a retry) its head has gone out first, and the backend never gets it whole;
 * - no `/smuggled-` bytes and no control character in a head ever reach the backend.
 */
import assert from "node:assert/strict";
import { scrape, startBackend, startLb } from "../../_util/harness.ts";
import { type RawRequest, startRawBackend } from "../../_util/raw_backend.ts";
import { octets, RawConn } from "../../_util/raw_http.ts";

const CASES = 10_400;
const CONCURRENCY = 48;
const SEED = 0x5eed;
/** The longest any one read may wait; far above a loaded machine's worst, far below a hang. */
const READ_MS = 10_000;

/** mulberry32: small, fast, seeded. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the listener must make of a class: forward it, refuse its head, or refuse its body. */
const CLASSES = {
  valid: "valid",
  valid_body: "valid",
  absolute_form: "valid",
  bad_request_line: "head",
  bad_header_name: "head",
  cr_injection: "head",
  lf_in_value: "head",
  big_header: "head",
  too_many_headers: "head",
  cl_te: "head",
  te_cl_smuggle: "head",
  duplicate_cl: "head",
  bad_chunking: "body",
  truncated_body: "body",
  lenient_chunking: "body",
} as const;
type Class = keyof typeof CLASSES;
type Kind = (typeof CLASSES)[Class];

/** How a case is sent. */
type Variant = "close" | "keep-alive" | "pipelined";

interface Case {
  readonly id: number;
  readonly cls: Class;
  readonly kind: Kind;
  readonly variant: Variant;
  readonly method: string;
  readonly bytes: string;
  /** The status the docs promise (docs/resilience.md, "Hostile input on the public listener"). */
  readonly status: number;
  /** Half-close after writing: no more bytes will come. */
  readonly halfClose: boolean;
  /** The body the backend must receive (valid requests). */
  readonly content?: string;
}

const CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f"];

/** The smuggled request has none of the headers the proxy adds. */
const smuggled = (id: number) => `GET /smuggled-${id} HTTP/1.1\r\nHost: x\r\n\r\n`;
/** Sent before a keep-alive case, on the same connection. */
const lead = (id: number) => `GET /fz/${id}/lead HTTP/1.1\r\nHost: lb.test\r\n\r\n`;
/** Sent after a case on the same connection (pipelined: in the same write). */
const follow = (id: number) => `GET /fz/${id}/follow HTTP/1.1\r\nHost: lb.test\r\nConnection: close\r\n\r\n`;

function generate(random: () => number, id: number): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const path = `/fz/${id}`;
  const cls = pick(Object.keys(CLASSES) as Class[]);
  // Bytes after a truncated body are more of that body: it is never pipelined.
  const variant = pick<Variant>(
    cls === "truncated_body" ? ["close", "keep-alive"] : ["close", "keep-alive", "pipelined"],
  );
  // Only a case sent alone asks to close: the others have more on their connection.
  const head = (method: string, headers: string[]) =>
    `${method} ${path} HTTP/1.1\r\nHost: lb.test\r\n${variant === "close" ? "Connection: close\r\n" : ""}${
      headers.map((h) => `${h}\r\n`).join("")
    }\r\n`;
  const base = { id, cls, kind: CLASSES[cls], variant, halfClose: false };
  const refused = (status: number, bytes: string, method = "GET"): Case => ({
    ...base,
    method,
    bytes,
    status,
  });
  switch (cls) {
    case "valid": {
      const method = pick(["GET", "HEAD", "DELETE", "OPTIONS"]);
      return { ...base, method, status: 200, bytes: head(method, [`X-Case: ${id}`]), content: "" };
    }
    case "valid_body": {
      const content = "b".repeat(Math.floor(random() * 2000));
      const chunked = random() < 0.5;
      const method = pick(["PUT", "POST", "PATCH"]);
      const body = !chunked
        ? content
        : content
        ? `${content.length.toString(16)}\r\n${content}\r\n0\r\n\r\n`
        : "0\r\n\r\n";
      const framing = chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${content.length}`;
      return { ...base, method, status: 200, bytes: head(method, [framing]) + body, content };
    }
    case "absolute_form":
      return {
        ...base,
        method: "GET",
        status: 200,
        content: "",
        bytes: `GET http://evil-${id}.example:${1 + Math.floor(random() * 65534)}${path} HTTP/1.1\r\n` +
          `Host: evil-${id}.example\r\n${variant === "close" ? "Connection: close\r\n" : ""}\r\n`,
      };
    case "bad_request_line": {
      const [bytes, status] = pick<[string, number]>([
        [`GET ${path}\r\nHost: x\r\n\r\n`, 400],
        // RFC 9112 section 2.3 names 505 for an HTTP major version other than 1.
        [`GET ${path} HTTP/9.9\r\nHost: x\r\n\r\n`, 505],
        [`GET ${path} FTP/1.1\r\nHost: x\r\n\r\n`, 400],
        [`G${pick(CONTROL)}T ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
        [`GET ${path}${pick(CONTROL)}x HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
        [`GET /a b HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
        [` GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
        [`GET ${path} HTTP/1.1 extra\r\nHost: x\r\n\r\n`, 400],
        [`${"\xff".repeat(8)} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
        [`GET ${path} HTTP/1.1\rHost: x\r\n\r\n`, 400],
        [`\r\n\r\n\r\n`, 400],
        [`GET${pick(["", "\t"])}${path}HTTP/1.1\r\n\r\n`, 400],
        [
          Array.from(
            { length: 1 + Math.floor(random() * 64) },
            () => String.fromCharCode(Math.floor(random() * 256)),
          ).join("") + "\r\n\r\n",
          400,
        ],
      ]);
      return refused(status, bytes);
    }
    case "bad_header_name":
      return refused(
        400,
        head("GET", [
          pick([
            "Bad Name: x",
            `X${pick(CONTROL)}Y: z`,
            ": empty-name",
            "X-Colon-Missing",
            "X(paren): y",
            'X"quote": y',
            "X-Trailing-Space : y",
          ]),
        ]),
      );
    case "cr_injection":
      return refused(
        400,
        head("GET", [pick([`X-A: a\rInjected: ${id}`, `X-A: a\r\rb`, `X-A: \r`, `X-A: a\x00b`])]),
      );
    case "lf_in_value":
      // A bare LF ends a header line for lenient parsers (RFC 9112 section 2.2 allows it); the
      // listener refuses it, so no two parsers on the path can read the head differently.
      return refused(400, head("GET", [`X-A: a\nX-Injected: ${id}`]));
    case "big_header":
      // The listener refuses a request head over 64 KiB with 431.
      return refused(431, head("GET", [`X-Big: ${"v".repeat(64 * 1024 + Math.floor(random() * 8192))}`]));
    case "too_many_headers":
      // More than 100 header fields: 431.
      return refused(
        431,
        head("GET", Array.from({ length: 127 + Math.floor(random() * 80) }, (_, i) => `X-H${i}: ${i}`)),
      );
    case "cl_te": {
      // Both framings: RFC 9112 section 6.3 lets a server pick chunked, but the listener refuses,
      // as the next hop might pick the other.
      const method = pick(["POST", "PUT"]);
      return refused(
        400,
        head(method, ["Content-Length: 5", "Transfer-Encoding: chunked"]) + `0\r\n\r\n${smuggled(id)}`,
        method,
      );
    }
    case "te_cl_smuggle": {
      const method = pick(["POST", "GET"]);
      return refused(
        400,
        head(method, [
          pick([
            "Transfer-Encoding: chunked",
            "Transfer-Encoding: xchunked",
            "Transfer-Encoding: chunked, identity",
          ]),
          `Content-Length: ${4 + smuggled(id).length}`,
        ]) + `${smuggled(id).length.toString(16)}\r\n${smuggled(id)}\r\n0\r\n\r\n`,
        method,
      );
    }
    case "duplicate_cl":
      return refused(
        400,
        head("POST", [`Content-Length: 3`, `Content-Length: ${3 + smuggled(id).length}`]) +
          `abc${smuggled(id)}`,
        "POST",
      );
    case "bad_chunking": {
      const method = pick(["POST", "PUT", "GET"]);
      return refused(
        400,
        head(method, ["Transfer-Encoding: chunked"]) + pick([
          "zz\r\nhello\r\n0\r\n\r\n",
          "5\r\nhelloXX0\r\n\r\n",
          "ffffffffffffffffffff\r\nx\r\n0\r\n\r\n",
          "-1\r\nx\r\n0\r\n\r\n",
        ]),
        method,
      );
    }
    case "lenient_chunking": {
      // Chunk lines ended by a bare LF: a lenient parser may accept them; the listener refuses.
      const method = pick(["POST", "PUT", "GET"]);
      return {
        ...refused(400, head(method, ["Transfer-Encoding: chunked"]) + "5\nhello\n0\n\n", method),
        halfClose: true,
      };
    }
    case "truncated_body": {
      // The body ends early and the client says it will send nothing more (half-close): a
      // client that left mid-request, counted and answered as 499.
      const method = pick(["POST", "PUT"]);
      const bytes = random() < 0.5
        ? head(method, ["Transfer-Encoding: chunked"]) + "5\r\nhel"
        : head(method, ["Content-Length: 100"]) + "only-a-bit";
      return { ...refused(499, bytes, method), halfClose: true };
    }
  }
}

/** What one case's client saw: the first status (0: closed without one), or what went wrong. */
interface Outcome {
  readonly status: number;
  readonly problem?: string;
}

/** Play one case on its own connection, as its variant says, and read until the server closes. */
async function play(port: number, c: Case): Promise<Outcome> {
  const conn = await RawConn.open(port);
  try {
    if (c.variant === "keep-alive") {
      await conn.write(lead(c.id));
      const r = await conn.readResponse({ timeoutMs: READ_MS });
      if (r.status !== 200) return { status: 0, problem: `the request before it got ${r.status}` };
    }
    // A server that refuses early may reset the connection before every byte is written.
    await conn.write(c.bytes + (c.variant === "pipelined" ? follow(c.id) : "")).catch(() => {});
    if (c.halfClose) await conn.closeWrite().catch(() => {});
    let status: number;
    try {
      status = (await conn.readResponse({ head: c.method === "HEAD", timeoutMs: READ_MS })).status;
    } catch (e) {
      return conn.closed
        ? { status: 0, problem: "closed without a status" }
        : { status: 0, problem: `no answer (hang): ${(e as Error).message.slice(0, 80)}` };
    }
    if (c.kind === "valid" && c.variant !== "close") {
      if (c.variant === "keep-alive") await conn.write(follow(c.id));
      const next = await conn.readResponse({ timeoutMs: READ_MS }).catch((e) => e as Error);
      if (next instanceof Error || next.status !== 200) {
        return {
          status,
          problem: `the request behind it got ${next instanceof Error ? next.message : next.status}`,
        };
      }
    }
    // Every case ends with the server closing: after Connection: close, or after a refusal.
    const rest = await conn.readToEnd(READ_MS).catch((e) => e as Error);
    if (rest instanceof Error) return { status, problem: rest.message.slice(0, 120) };
    if (rest !== "") {
      return { status, problem: `more after the answer: ${JSON.stringify(rest.slice(0, 80))}` };
    }
    return { status };
  } finally {
    await conn.close();
  }
}

/** A case's requests at the backend: its own, the one before it (keep-alive) and the one after. */
interface Arrived {
  main: RawRequest[];
  lead: RawRequest[];
  follow: RawRequest[];
}

/** What the backend must have received for `c`; problems as text, none when it all holds. */
function judge(c: Case, got: Arrived, order: Map<RawRequest, number>): string[] {
  const problems: string[] = [];
  const expectLead = c.variant === "keep-alive" ? 1 : 0;
  if (got.lead.length !== expectLead) problems.push(`${got.lead.length} requests before it arrived`);
  if (c.kind === "valid") {
    const [r] = got.main;
    if (got.main.length !== 1 || !r.complete) {
      problems.push(`arrived ${got.main.length} times, ${got.main.filter((r) => r.complete).length} whole`);
    } else if (r.content !== c.content) {
      problems.push(`body of ${r.content.length} bytes arrived, ${c.content!.length} sent`);
    }
    const expectFollow = c.variant === "close" ? 0 : 1;
    if (got.follow.length !== expectFollow) problems.push(`${got.follow.length} requests behind it arrived`);
    if (r && got.follow[0] && order.get(r)! > order.get(got.follow[0])!) {
      problems.push("the request behind it arrived first");
    }
    return problems;
  }
  if (got.follow.length) problems.push("the request behind a refused one reached the backend");
  if (c.kind === "head" && got.main.length) {
    problems.push("a request refused for its head reached the backend");
  }
  if (c.kind === "body") {
    // A POST is never retried, so its body streams and its head goes out first; a PUT or GET
    // body within retries.max_body is buffered, and refused before anything goes out.
    const streams = c.method === "POST";
    if (got.main.length > (streams ? 1 : 0)) problems.push(`arrived ${got.main.length} times`);
    if (got.main.some((r) => r.complete)) problems.push("a request refused for its body arrived whole");
  }
  return problems;
}

/** A head as the backend got it must be lines of visible characters, SP and HTAB, split by CRLF. */
function headProblems(r: RawRequest): string[] {
  const problems: string[] = [];
  for (const line of r.head.split("\r\n")) {
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) problems.push(`control character in ${JSON.stringify(line)}`);
  }
  for (const name of ["x-request-id", "x-forwarded-for", "x-forwarded-proto"]) {
    const n = r.head.split("\r\n").filter((l) => l.toLowerCase().startsWith(`${name}:`)).length;
    if (n !== 1) problems.push(`${n} ${name} fields`);
  }
  if (!/\r\nx-forwarded-proto: http(\r\n|$)/.test(r.head)) problems.push("x-forwarded-proto is not http");
  return problems;
}

Deno.test("proxy answers 10,000 seeded hostile requests as documented and no refused byte reaches the backend", async () => {
  const be = startRawBackend(async (head, conn) => {
    const body = head.startsWith("HEAD ") ? "" : "fuzz-ok";
    await conn.write(octets(`HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\n${body}`));
  });
  // Default retries: PUT and GET bodies are buffered for a retry, POST bodies stream.
  const lb = await startLb([be.url], "passive: {consecutive_failures: 0}\nhealth_check: {interval: 1m}");
  const random = rng(SEED);
  const cases = Array.from({ length: CASES }, (_, i) => generate(random, i));
  const outcomes: Outcome[] = [];
  try {
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        outcomes[i] = await play(lb.proxyAddr.port, cases[i]);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const took = performance.now() - started;

    // At the backend: every request attributed to its case by its target.
    const arrived = new Map<number, Arrived>();
    const order = new Map<RawRequest, number>();
    const stray: string[] = [];
    const dirty: string[] = [];
    be.requests.forEach((r, i) => {
      order.set(r, i);
      dirty.push(...headProblems(r).map((p) => `${r.head.split("\r\n")[0]}: ${p}`));
      const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \/fz\/(\d+)(\/lead|\/follow)? HTTP\/1\.1\r\n/.exec(r.head);
      if (!m) return void stray.push(r.head.split("\r\n")[0]);
      const id = Number(m[1]);
      const slot = arrived.get(id) ?? { main: [], lead: [], follow: [] };
      arrived.set(id, slot);
      slot[m[2] === "/lead" ? "lead" : m[2] === "/follow" ? "follow" : "main"].push(r);
    });

    const problems: string[] = [];
    const table = new Map<Class, { cases: number; reached: number; statuses: Map<number, number> }>();
    for (const c of cases) {
      const out = outcomes[c.id];
      const got = arrived.get(c.id) ?? { main: [], lead: [], follow: [] };
      const row = table.get(c.cls) ?? { cases: 0, reached: 0, statuses: new Map() };
      table.set(c.cls, row);
      row.cases++;
      if (got.main.length) row.reached++;
      row.statuses.set(out.status, (row.statuses.get(out.status) ?? 0) + 1);
      const wrong = [
        ...(out.problem ? [out.problem] : []),
        ...(out.status !== c.status ? [`status ${out.status || "none"}, expected ${c.status}`] : []),
        ...judge(c, got, order),
      ];
      if (wrong.length && problems.filter((p) => p.includes(`(${c.cls}, `)).length < 3) {
        problems.push(
          `case ${c.id} (${c.cls}, ${c.variant}, ${c.method}): ${wrong.join("; ")}: ${
            JSON.stringify(c.bytes.slice(0, 120))
          }`,
        );
      }
    }
    console.log(
      `${CASES} cases in ${(took / 1000).toFixed(1)}s; class: cases, reached the backend, statuses\n  ${
        [...table].sort(([a], [b]) => a.localeCompare(b)).map(([cls, r]) =>
          `${cls}: ${r.cases}, ${r.reached}, ${
            [...r.statuses].sort(([a], [b]) => a - b).map(([s, n]) =>
              `${s || "none"}x${n}`
            ).join(" ")
          }`
        ).join("\n  ")
      }`,
    );
    // One assertion for all four, so a failure shows every kind of problem at once.
    const smuggledBytes = be.received.filter((bytes) => bytes.includes("/smuggled-")).map((b) =>
      b.slice(0, 200)
    );
    assert.deepEqual(
      {
        "cases not handled as documented": problems,
        "requests the fuzz never sent": stray.slice(0, 10),
        "heads unlike the proxy's": dirty.slice(0, 10),
        "connections that carried /smuggled- bytes": smuggledBytes.slice(0, 3),
      },
      {
        "cases not handled as documented": [],
        "requests the fuzz never sent": [],
        "heads unlike the proxy's": [],
        "connections that carried /smuggled- bytes": [],
      },
    );
    assert.ok(table.get("valid_body")!.reached > 400, "valid requests with bodies reached the backend");

    // Counted as answered: 400 for broken framing, 499 for a client that left mid-body.
    const m = await scrape(lb);
    const counted = (code: number) =>
      [...m].filter(([k]) => k.startsWith("lb_requests_total{") && k.includes(`code="${code}"`))
        .reduce((n, [, v]) => n + v, 0);
    const count = (...classes: Class[]) => cases.filter((c) => classes.includes(c.cls)).length;
    assert.equal(counted(499), count("truncated_body"), "truncated bodies counted as 499");
    assert.equal(counted(400), count("bad_chunking", "lenient_chunking"), "broken bodies counted as 400");

    // Still alive and serving normally.
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${lb.url}/fz/${CASES + i}`);
      assert.equal(await r.text(), "fuzz-ok");
    }
    assert.equal(lb.pool.get("b0")!.inFlight, 0);
  } finally {
    await lb.shutdown();
    await be.close();
  }
});

Deno.test("proxy keeps serving slow clients' neighbours and cuts the slow ones off at timeouts.client_header", async () => {
  const be = startBackend(() => new Response("ok"));
  const lb = await startLb([be.url], "timeouts: {client_header: 1500ms, client_idle: 400ms}");
  const slow: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: lb.proxyAddr.port });
      await conn.write(new TextEncoder().encode(`GET /slow-${i} HTTP/1.1\r\nHost: x\r\nX-Drip: `));
      slow.push(conn);
    }
    for (let i = 0; i < 50; i++) assert.equal(await (await fetch(`${lb.url}/normal`)).text(), "ok");
    // One more byte per connection: the headers are still unfinished and nothing reached the backend.
    await Promise.all(slow.map((c) => c.write(new TextEncoder().encode("a"))));
    assert.equal(be.seen.filter((r) => r.url.includes("/slow-")).length, 0);
    // Dripping bytes does not extend the deadline: each slow client gets a 408, then EOF.
    const answers = await Promise.all(slow.map(readToEnd));
    assert.deepEqual(
      new Set(answers.map((a) => a.split("\r\n")[0])),
      new Set(["HTTP/1.1 408 Request Timeout"]),
    );
    // An idle keep-alive connection is closed silently after client_idle.
    const idle = await Deno.connect({ hostname: "127.0.0.1", port: lb.proxyAddr.port });
    slow.push(idle);
    await idle.write(new TextEncoder().encode("GET /once HTTP/1.1\r\nHost: x\r\n\r\n"));
    const t0 = performance.now();
    const first = await readToEnd(idle);
    assert.match(first, /^HTTP\/1\.1 200 OK/);
    assert.ok(performance.now() - t0 >= 300, "closed before client_idle");
  } finally {
    for (const c of slow) {
      try {
        c.close();
      } catch { /* closed by the server */ }
    }
    await lb.shutdown();
    await be.close();
  }
});

/** Everything the server sends until it closes (bounded: the test's servers close within seconds). */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const chunks: number[] = [];
  const buf = new Uint8Array(4096);
  const deadline = setTimeout(() => conn.close(), 5000);
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(...buf.subarray(0, n));
    }
  } catch {
    /* closed by the deadline */
  } finally {
    clearTimeout(deadline);
  }
  return String.fromCharCode(...chunks);
}
