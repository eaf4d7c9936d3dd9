/**
 * Hostile input on the public listener: a seeded raw-socket fuzz of 10,000+ requests.
 *
 * Every case is written on its own connection, followed by a half-close so the server always
 * learns that no more bytes will come; the case then reads until the server closes. Per class:
 * valid requests must get a 2xx, malformed ones a 4xx or a closed connection, ambiguous ones
 * (CL+TE, bare LF) anything but a 5xx or a hang. At the backend, every request must carry the
 * proxy's own headers: a request parsed out of another request's body (smuggled) would not.
 */
import assert from "node:assert/strict";
import { startBackend, startLb } from "../../_util/harness.ts";

const CASES = 10_400;
const CONCURRENCY = 48;
const SEED = 0x5eed;

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

type Expect = "2xx" | "reject" | "not5xx";
interface Case {
  readonly cls: string;
  readonly bytes: string;
  readonly expect: Expect;
  /** Half-close after writing: no more bytes will come. */
  readonly halfClose?: boolean;
}

const CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f"];

/** The smuggled request has none of the headers the proxy adds. */
const smuggled = (id: number) => `GET /smuggled-${id} HTTP/1.1\r\nHost: x\r\n\r\n`;

function generate(random: () => number, id: number): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const path = `/fz/${id}`;
  // Connection: close makes the server end every exchange, so a case never waits for a timeout.
  const head = (method: string, headers: string[]) =>
    `${method} ${path} HTTP/1.1\r\nHost: lb.test\r\nConnection: close\r\n${
      headers.map((h) => `${h}\r\n`).join("")
    }\r\n`;
  const cls = pick([
    "valid",
    "valid_body",
    "absolute_form",
    "bad_request_line",
    "bad_header_name",
    "cr_injection",
    "lf_in_value",
    "big_header",
    "too_many_headers",
    "cl_te",
    "te_cl_smuggle",
    "bad_chunking",
    "truncated_body",
    "lenient_chunking",
    "duplicate_cl",
  ]);
  switch (cls) {
    case "valid":
      return {
        cls,
        expect: "2xx",
        bytes: head(pick(["GET", "HEAD", "DELETE", "OPTIONS"]), [`X-Case: ${id}`]),
      };
    case "valid_body": {
      const body = "b".repeat(Math.floor(random() * 2000));
      const chunked = random() < 0.5;
      const framed = chunked
        ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`.replace(/^0\r\n\r\n0\r\n\r\n$/, "0\r\n\r\n")
        : body;
      return {
        cls,
        expect: "2xx",
        bytes: head(pick(["PUT", "POST", "PATCH"]), [
          chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${body.length}`,
        ]) + (chunked && body.length === 0 ? "0\r\n\r\n" : framed),
      };
    }
    case "absolute_form":
      return {
        cls,
        expect: "2xx",
        bytes: `GET http://evil-${id}.example:${1 + Math.floor(random() * 65534)}${path} HTTP/1.1\r\n` +
          `Host: evil-${id}.example\r\nConnection: close\r\n\r\n`,
      };
    case "bad_request_line":
      return {
        cls,
        expect: "reject",
        bytes: pick([
          `GET ${path}\r\nHost: x\r\n\r\n`,
          `GET ${path} HTTP/9.9\r\nHost: x\r\n\r\n`,
          `GET ${path} FTP/1.1\r\nHost: x\r\n\r\n`,
          `G${pick(CONTROL)}T ${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
          `GET /fz/${id}${pick(CONTROL)}x HTTP/1.1\r\nHost: x\r\n\r\n`,
          `GET /a b HTTP/1.1\r\nHost: x\r\n\r\n`,
          ` GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
          `GET ${path} HTTP/1.1 extra\r\nHost: x\r\n\r\n`,
          `${"\xff".repeat(8)} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
          `GET ${path} HTTP/1.1\rHost: x\r\n\r\n`,
          `\r\n\r\n\r\n`,
          `GET${pick(["", "\t"])}${path}HTTP/1.1\r\n\r\n`,
          Array.from(
            { length: 1 + Math.floor(random() * 64) },
            () => String.fromCharCode(Math.floor(random() * 256)),
          )
            .join("") + "\r\n\r\n",
        ]),
      };
    case "bad_header_name":
      return {
        cls,
        expect: "reject",
        bytes: head("GET", [
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
      };
    case "cr_injection":
      return {
        cls,
        expect: "reject",
        bytes: head("GET", [pick([`X-A: a\rInjected: ${id}`, `X-A: a\r\rb`, `X-A: \r`, `X-A: a\x00b`])]),
      };
    case "lf_in_value":
      // A bare LF ends a header line for lenient parsers (RFC 9112 section 2.2 allows it); the
      // listener refuses it, so no two parsers on the path can read the head differently.
      return { cls, expect: "reject", bytes: head("GET", [`X-A: a\nX-Injected: ${id}`]) };
    case "big_header":
      // The listener refuses a request head over 64 KiB with 431.
      return {
        cls,
        expect: "reject",
        bytes: head("GET", [`X-Big: ${"v".repeat(64 * 1024 + Math.floor(random() * 8192))}`]),
      };
    case "too_many_headers":
      // The listener refuses more than 100 header fields with 431; a 5xx or a hang would be a bug.
      return {
        cls,
        expect: "reject",
        bytes: head(
          "GET",
          Array.from({ length: 127 + Math.floor(random() * 80) }, (_, i) => `X-H${i}: ${i}`),
        ),
      };
    case "cl_te":
      // Both framings: RFC 9112 section 6.3 lets a server pick chunked, but the listener refuses,
      // as the next hop might pick the other.
      return {
        cls,
        expect: "reject",
        bytes: head(pick(["POST", "PUT"]), ["Content-Length: 5", "Transfer-Encoding: chunked"]) +
          `0\r\n\r\n${smuggled(id)}`,
      };
    case "te_cl_smuggle":
      return {
        cls,
        expect: "reject",
        bytes: head(pick(["POST", "GET"]), [
          pick([
            "Transfer-Encoding: chunked",
            "Transfer-Encoding: xchunked",
            "Transfer-Encoding: chunked, identity",
          ]),
          `Content-Length: ${4 + smuggled(id).length}`,
        ]) + `${smuggled(id).length.toString(16)}\r\n${smuggled(id)}\r\n0\r\n\r\n`,
      };
    case "bad_chunking":
      return {
        cls,
        expect: "reject",
        bytes: head(pick(["POST", "PUT", "GET"]), ["Transfer-Encoding: chunked"]) + pick([
          "zz\r\nhello\r\n0\r\n\r\n",
          "5\r\nhelloXX0\r\n\r\n",
          "ffffffffffffffffffff\r\nx\r\n0\r\n\r\n",
          "-1\r\nx\r\n0\r\n\r\n",
        ]),
      };
    case "lenient_chunking":
      // Chunk lines ended by a bare LF: a lenient parser may accept them; the listener refuses
      // (400, or 499 once the body was already being forwarded).
      return {
        cls,
        expect: "reject",
        halfClose: true,
        bytes: head(pick(["POST", "PUT", "GET"]), ["Transfer-Encoding: chunked"]) + "5\nhello\n0\n\n",
      };
    case "truncated_body":
      // The body ends early and the client says it will send nothing more (half-close).
      return {
        cls,
        expect: "reject",
        halfClose: true,
        bytes: random() < 0.5
          ? head(pick(["POST", "PUT"]), ["Transfer-Encoding: chunked"]) + "5\r\nhel"
          : head(pick(["POST", "PUT"]), ["Content-Length: 100"]) + "only-a-bit",
      };
    default: // duplicate_cl
      return {
        cls,
        expect: "reject",
        bytes: head("POST", [`Content-Length: 3`, `Content-Length: ${3 + smuggled(id).length}`]) +
          `abc${smuggled(id)}`,
      };
  }
}

interface Outcome {
  readonly status: number; // 0: closed without a response
  readonly hung: boolean;
}

async function send(port: number, bytes: string, halfClose: boolean, timeoutMs: number): Promise<Outcome> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  let head = "";
  try {
    // Latin-1: every byte value 0-255 goes out as itself.
    await conn.write(Uint8Array.from(bytes, (c) => c.charCodeAt(0) & 0xff)).catch(() => 0);
    if (halfClose) await conn.closeWrite().catch(() => {});
    const buf = new Uint8Array(16 * 1024);
    while (head.length < 64) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    // Drain the rest so the server is not stuck writing to us.
    while ((await conn.read(buf).catch(() => null)) !== null) { /* discard */ }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  return { status: m ? Number(m[1]) : 0, hung };
}

Deno.test("proxy survives 10,000 seeded hostile requests and never lets ambiguous framing reach a backend", async () => {
  const seen: { url: string; headers: Headers }[] = [];
  const be = startBackend(async (req) => {
    seen.push({ url: req.url, headers: req.headers });
    await req.arrayBuffer().catch(() => {}); // read the whole body, as a strict backend would
    return new Response("fuzz-ok");
  });
  const lb = await startLb(
    [be.url],
    "retries: {attempts: 0}\npassive: {consecutive_failures: 0}\nhealth_check: {interval: 1m}",
  );
  const random = rng(SEED);
  const cases = Array.from({ length: CASES }, (_, i) => generate(random, i));
  const problems: string[] = [];
  const byClass = new Map<string, Map<number, number>>();
  try {
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        const c = cases[i];
        const out = await send(lb.proxyAddr.port, c.bytes, c.halfClose ?? false, 3000);
        const counts = byClass.get(c.cls) ?? new Map<number, number>();
        counts.set(out.status, (counts.get(out.status) ?? 0) + 1);
        byClass.set(c.cls, counts);
        const ok = out.status >= 200 && out.status < 300;
        // 505 is the refusal RFC 9112 section 2.3 names for an HTTP major version other than 1.
        const rejected = out.status === 0 || (out.status >= 400 && out.status < 500) ||
          (out.status === 505 && c.bytes.includes(" HTTP/9.9\r\n"));
        const bad = out.hung ||
          (c.expect === "2xx" && !ok) ||
          (c.expect === "reject" && !rejected) ||
          (c.expect === "not5xx" && out.status >= 500);
        if (bad && problems.filter((p) => p.includes(`(${c.cls})`)).length < 3) {
          problems.push(
            `case ${i} (${c.cls}) got ${out.hung ? "no answer (hang)" : out.status || "close"}: ${
              JSON.stringify(c.bytes.slice(0, 160))
            }`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const took = performance.now() - started;
    const summary = [...byClass].map(([cls, m]) =>
      `${cls}: ${[...m].map(([s, n]) => `${s || "close"}x${n}`).join(" ")}`
    );
    console.log(`${CASES} cases in ${(took / 1000).toFixed(1)}s\n  ${summary.join("\n  ")}`);
    assert.deepEqual(problems, []);

    // At the backend: only requests the proxy itself framed and forwarded.
    const foreign = seen.filter((r) =>
      !r.headers.has("x-request-id") || !r.headers.has("x-forwarded-for") ||
      r.headers.get("x-forwarded-proto") !== "http"
    );
    assert.deepEqual(foreign.map((r) => r.url), [], "requests smuggled past the proxy");
    for (const r of seen) {
      assert.match(new URL(r.url).pathname, /^\/(fz|smuggled-)\d*/, `unexpected target ${r.url}`);
      for (const [k, v] of r.headers) {
        assert.ok(!/[\r\n\0]/.test(k + v), `control character reached the backend: ${k}`);
      }
    }
    const absolute = seen.filter((r) => /^\/fz\//.test(new URL(r.url).pathname)).length;
    assert.ok(absolute > 1000, `valid and absolute-form requests reached the backend (${absolute})`);

    // Still alive and serving normally.
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${lb.url}/after`);
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
