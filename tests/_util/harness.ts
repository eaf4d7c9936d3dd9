/**
 * Test harness: real backends on loopback port 0 and a real proxy started from YAML text.
 *
 * @module
 */

import { parseConfig } from "../../lib/config/config.ts";
import { memoryLogger } from "../../lib/base/log.ts";
import { type LoadBalancer, startLoadBalancer, type StartOptions } from "../../lib/server/start.ts";

/** A backend started for a test. */
export interface TestBackend {
  readonly port: number;
  readonly url: string;
  /** Requests seen (health checks excluded), in arrival order. */
  readonly seen: Request[];
  /** What `/health` answers; flip to false to fail health checks. */
  healthy: boolean;
  /** Health checks answered so far. */
  readonly checks: number;
  close(): Promise<void>;
}

/**
 * Start `Deno.serve` on 127.0.0.1 (`port` 0: any free port, or a given one to restart a backend
 * in place) with `handler` (default: 200 "ok"). `/health` is answered
 * by the harness (200, or 503 while `healthy` is false) and never reaches `handler`.
 */
export function startBackend(
  handler: (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response> = () =>
    new Response("ok"),
  port = 0,
): TestBackend {
  const seen: Request[] = [];
  const backend: TestBackend = {
    port: 0,
    url: "",
    seen,
    healthy: true,
    checks: 0,
    close: () => server.shutdown(),
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req, info) => {
    if (new URL(req.url).pathname === "/health") {
      (backend as { checks: number }).checks++;
      return new Response(backend.healthy ? "ok" : "down", { status: backend.healthy ? 200 : 503 });
    }
    seen.push(req);
    return handler(req, info);
  });
  const bound = (server.addr as Deno.NetAddr).port;
  return Object.assign(backend, { port: bound, url: `http://127.0.0.1:${bound}` });
}

/** A started proxy plus convenience URLs and captured log lines. */
export interface TestLb extends LoadBalancer {
  readonly url: string;
  readonly adminUrl: string;
  readonly logLines: string[];
}

/**
 * Start the proxy from YAML, on loopback port 0 for both listeners unless the YAML says
 * otherwise. Backends are given as URLs (or a URL with more YAML fields such as
 * `max_connections: 2`) and named b0, b1, ....
 */
export async function startLb(
  backends: (string | { url: string; fields: string })[],
  extra = "",
  options: StartOptions = {},
): Promise<TestLb> {
  const list = backends.map((b, i) =>
    typeof b === "string"
      ? `  - {name: b${i}, url: "${b}"}`
      : `  - {name: b${i}, url: "${b.url}", ${b.fields}}`
  ).join("\n");
  // Test backends fail a check by refusing the connection or answering 503, both at once: the
  // timeout only has to outlast a busy machine's stall, which 500 ms did not (every backend went
  // unhealthy at once and requests got "no healthy backend").
  const health = extra.includes("health_check:")
    ? ""
    : `health_check: {interval: 100ms, timeout: 5s, healthy_threshold: 1, unhealthy_threshold: 1}\n`;
  return await startLbFrom(`${health}${extra}\nbackends:\n${list}\n`, options);
}

/**
 * Start the proxy from a whole YAML config (services, routes, ...), on loopback port 0 for both
 * listeners unless the YAML says otherwise.
 */
export async function startLbFrom(yaml: string, options: StartOptions = {}): Promise<TestLb> {
  const listen = /^listen:/m.test(yaml) ? "" : `listen: "127.0.0.1:0"\n`;
  const admin = /^admin:/m.test(yaml) ? "" : `admin: {listen: "127.0.0.1:0"}\n`;
  const parsed = parseConfig(`${listen}${admin}${yaml}`);
  if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
  const log = memoryLogger();
  const lb = await startLoadBalancer(parsed.config, { log, processMetrics: false, ...options });
  // Assigned onto the proxy's own object: its getters (pool, balancer, ...) keep following reloads.
  return Object.assign(lb, {
    url: `http://127.0.0.1:${lb.proxyAddr.port}`,
    adminUrl: `http://127.0.0.1:${lb.adminAddr.port}`,
    logLines: log.lines,
  });
}

/** Parse Prometheus text exposition into `name{labels}` -> value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Fetch `/metrics` from the admin listener and parse it. */
export async function scrape(lb: TestLb): Promise<Map<string, number>> {
  return parseMetrics(await (await fetch(`${lb.adminUrl}/metrics`)).text());
}

/** Poll `cond` every 20 ms until true or `timeoutMs` passes. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Send raw bytes over TCP and read until the server closes or `timeoutMs` passes. */
export async function rawRequest(port: number, data: string | Uint8Array, timeoutMs = 2000): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await conn.write(bytes);
  const chunks: Uint8Array[] = [];
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    const buf = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch { /* closed by timer or reset */ }
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* already closed */ }
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}

/** A response read with node:http: raw headers and undecoded body bytes. */
export interface RawResponse {
  readonly status: number;
  /** Header pairs flattened, in order, repeats kept. */
  readonly rawHeaders: string[];
  readonly body: Uint8Array;
  header(name: string): string | undefined;
}

/**
 * Request with node:http, which neither decompresses nor rewrites `Host`, so tests see exactly
 * what the proxy sent.
 */
export async function nodeRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<RawResponse> {
  const http = await import("node:http");
  const u = new URL(url);
  const headers = { ...init.headers };
  if (init.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) {
    headers["content-length"] = String(
      typeof init.body === "string" ? new TextEncoder().encode(init.body).length : init.body.length,
    );
  }
  return await new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname,
      port: Number(u.port),
      path: u.pathname + u.search,
      method: init.method ?? "GET",
      headers,
      agent: false,
    }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (c: Uint8Array) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let o = 0;
        for (const c of chunks) body.set(c, (o += c.length) - c.length);
        const raw = res.rawHeaders;
        resolve({
          status: res.statusCode ?? 0,
          rawHeaders: raw,
          body,
          header: (name) => {
            for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1];
            return undefined;
          },
        });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}
