/**
 * `deno task demo`: the whole thing in one command, without Docker. Two services of demo backends
 * with different profiles on loopback (`web` with four, `api` with two), the proxy in front of
 * them routing by host and path, HTTPS (HTTP/2 and HTTP/1.1) with a certificate made at start
 * for localhost, a WebSocket echo at `/ws` over `ws://` and `wss://`, its status page, and
 * optionally steady background load to both services so the numbers move.
 *
 * ```
 * deno task demo [--port 8080] [--admin-port 8081] [--tls-port 8443 | --no-tls] [--strategy NAME]
 *                [--load] [--rate 100] [--access-log]
 * ```
 *
 * The proxy opens its public port only after the first health round, so the first `curl` is
 * answered by a backend, never with a 503. SIGINT and SIGTERM stop the load, the proxy and the
 * backends, in that order, and exit 0.
 *
 * @module
 */

import { consoleLogger } from "../lib/base/mod.ts";
import { type LoadBalancer, startLoadBalancer } from "../lib/server/mod.ts";
import { buildProxyConfig, runCli, stopSignal } from "./shared/mod.ts";
import { DEMO_CERT_NAMES, type DemoCert, DemoCertError, writeDemoCert } from "./demo_cert.ts";
import { type BackendSpec, type RunningBackend, startSpecBackend } from "./backend/mod.ts";
import {
  DEMO_ROUTES,
  DEMO_SERVICES,
  DEMO_USAGE,
  DEMO_WS_PATH,
  DEMO_WS_ROUTE,
  type DemoOptions,
  parseDemoArgs,
  routeRequest,
} from "./demo_config.ts";
import { formatProgress, runLoad, type Summary } from "./load/mod.ts";

/** Longest the background load runs: a bound, not a plan; Ctrl-C normally ends it first. */
const LOAD_LIMIT_MS = 24 * 3_600_000;
/** Clients of the background load per service, each with its own X-Forwarded-For address. */
const LOAD_CLIENTS = 10;

/** One running service of the demo: its backends, each beside the profile it was started with. */
export interface DemoServiceRun {
  readonly name: string;
  readonly backends: readonly { readonly spec: BackendSpec; readonly running: RunningBackend }[];
  /** Where the background load of this service goes: a route that needs no `Host` header. */
  readonly loadUrl: string;
}

/** A running demo. */
export interface Demo {
  readonly proxyUrl: string;
  readonly adminUrl: string;
  /** `https://localhost:PORT/`, the TLS listener; absent with `--no-tls`. */
  readonly httpsUrl?: string;
  /** The certificate HTTPS serves, written for this run; absent with `--no-tls`. */
  readonly cert?: DemoCert;
  /** The services in the order of {@linkcode DEMO_SERVICES}. */
  readonly services: readonly DemoServiceRun[];
  readonly lb: LoadBalancer;
  /** Stop the load (if any), the proxy and the backends. */
  stop(): Promise<void>;
}

/**
 * Write the certificate (unless `--no-tls`), start the backends, the proxy and, with
 * `options.load`, the background load (to every service).
 *
 * @param options Ports, starting strategy and load.
 * @param onLoadLine Receives the load's progress lines (every 10 s per service).
 * @returns The running demo.
 * @throws {DemoCertError} When the certificate cannot be written.
 * @throws When a listener cannot bind (port taken); what was started is closed, the certificate removed.
 */
export async function startDemo(options: DemoOptions, onLoadLine: (line: string) => void): Promise<Demo> {
  const cert = options.tlsPort === null ? undefined : await writeDemoCert();
  let seed = 0;
  const started = DEMO_SERVICES.map((service) => ({
    name: service.name,
    backends: service.backends.map((spec) => ({ spec, running: startSpecBackend(spec, ++seed) })),
  }));
  const closeBackends = async () => {
    await Promise.all(started.flatMap((s) => s.backends.map((b) => b.running.close())));
    await cert?.remove();
  };
  const built = buildProxyConfig({
    listen: `127.0.0.1:${options.port}`,
    adminListen: `127.0.0.1:${options.adminPort}`,
    strategy: options.strategy,
    services: started.map((s) => ({
      name: s.name,
      backends: s.backends.map(({ spec, running }) => ({
        name: spec.name,
        url: running.url,
        weight: spec.weight,
      })),
    })),
    routes: [DEMO_WS_ROUTE, ...DEMO_ROUTES],
    healthInterval: "2s",
    shutdownTimeout: "5s",
    accessLog: options.accessLog ? "common" : undefined,
    tls: cert && {
      listen: `127.0.0.1:${options.tlsPort}`,
      certFile: cert.certFile,
      keyFile: cert.keyFile,
    },
  });
  if (!built.ok) {
    await closeBackends();
    throw new Error(`the built-in config is invalid:\n${built.errors.join("\n")}`);
  }
  let lb: LoadBalancer;
  try {
    lb = await startLoadBalancer(built.config, { log: consoleLogger("info") });
  } catch (error) {
    await closeBackends();
    throw error;
  }
  const proxyUrl = `http://127.0.0.1:${lb.proxyAddr.port}/`;
  const services = started.map((s) => ({ ...s, loadUrl: loadUrl(s.name, proxyUrl) }));
  const stopLoad = new AbortController();
  const loads: Promise<Summary>[] = options.load
    ? services.map((s) =>
      runLoad({
        url: s.loadUrl,
        clients: LOAD_CLIENTS,
        rate: options.rate / LOAD_CLIENTS,
        durationMs: LOAD_LIMIT_MS,
        timeoutMs: 5_000,
      }, {
        signal: stopLoad.signal,
        progressIntervalMs: 10_000,
        onProgress: (p) => onLoadLine(`load ${s.name}: ${formatProgress(p)}`),
      })
    )
    : [];
  return {
    proxyUrl,
    adminUrl: `http://127.0.0.1:${lb.adminAddr.port}`,
    // localhost, not 127.0.0.1: the certificate's DNS name, which a browser shows.
    httpsUrl: lb.tlsAddr && `https://localhost:${lb.tlsAddr.port}/`,
    cert,
    services,
    lb,
    async stop() {
      stopLoad.abort(new Error("demo stopping"));
      await Promise.all(loads);
      await lb.shutdown();
      await closeBackends();
    },
  };
}

/** The URL of the first route to `service` that needs no `Host` header: load cannot set one. */
function loadUrl(service: string, proxyUrl: string): string {
  const route = DEMO_ROUTES.find((r) => r.service === service && r.host === undefined);
  if (!route) throw new Error(`the demo's routes reach service ${service} by host only: no URL to load`);
  return routeRequest(route, proxyUrl).url;
}

/** `text` as one shell word: as it is when it is plain, else in single quotes. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * A `deno eval` line that opens a WebSocket to `url`, sends `hello`, prints the echo and closes;
 * `--cert` makes Deno trust the demo's certificate for `wss://`.
 */
function wsTryLine(url: string, certFile?: string): string {
  const code = `const w = new WebSocket('${url}'); w.onopen = () => w.send('hello'); ` +
    `w.onmessage = (e) => (console.log(e.data), w.close())`;
  return `deno eval ${certFile === undefined ? "" : `--cert ${shellWord(certFile)} `}"${code}"`;
}

/** `curl` for a request a route matches. */
function curlLine(request: { url: string; host?: string }): string {
  return `curl -i ${request.host === undefined ? "" : `-H 'Host: ${request.host}' `}${request.url}`;
}

/** `label` in the banner's first column, or as many spaces when `first` is false. */
function column(label: string, first: boolean): string {
  return `  ${(first ? label : "").padEnd(13)}`;
}

/**
 * What the demo prints once it is up: where everything is (HTTPS, its certificate and the
 * WebSocket echo with a line to try each), then per service its strategy, its backends, the
 * `curl` lines its routes answer and how to switch its strategy.
 *
 * @param demo The running demo.
 * @param options The options it was started with (for the load).
 * @returns The banner, lines joined with `\n`; its last line is `Ctrl-C stops everything.`
 */
export function banner(demo: Demo, options: DemoOptions): string {
  const load = options.load ? `, background load ${options.rate} req/s per service` : "";
  const count = demo.services.reduce((n, s) => n + s.backends.length, 0);
  const ws = new URL(DEMO_WS_PATH, demo.proxyUrl).href.replace(/^http:/, "ws:");
  const wss = demo.httpsUrl && new URL(DEMO_WS_PATH, demo.httpsUrl).href.replace(/^https:/, "wss:");
  const https = demo.httpsUrl && demo.cert
    ? {
      url: demo.httpsUrl,
      cert: demo.cert,
      names: [...DEMO_CERT_NAMES.dnsNames, ...DEMO_CERT_NAMES.ipAddresses].join(", "),
      expires: `${demo.cert.notAfter.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    }
    : undefined;
  const lines = [
    `lb demo: ${demo.services.length} services, ${count} backends on loopback${load}`,
    `  proxy        ${demo.proxyUrl}`,
    ...(https
      ? [
        `  https        ${https.url} (HTTP/2 and HTTP/1.1, the same routes)`,
        `  certificate  ${https.cert.certFile} (self-signed for ${https.names}; ` +
        `expires ${https.expires}; removed at exit)`,
      ]
      : []),
    `  websocket    ${
      [ws, wss].filter(Boolean).join(" ")
    } (echo, answered by ${DEMO_WS_ROUTE.service}'s backends)`,
    `  status page  ${demo.adminUrl}/`,
    `  metrics      ${demo.adminUrl}/metrics`,
    `  stats        ${demo.adminUrl}/api/stats`,
    ...(https ? [`  try https    curl -i --cacert ${shellWord(https.cert.certFile)} ${https.url}`] : []),
    `  try ws       ${wsTryLine(ws)}`,
    ...(https && wss ? [`               ${wsTryLine(wss, https.cert.certFile)}`] : []),
  ];
  for (const service of demo.services) {
    const strategy = demo.lb.service(service.name).balancer.strategy;
    lines.push(`service ${service.name}: strategy ${strategy}`);
    service.backends.forEach(({ spec, running }, i) => {
      const errors = spec.errorRate ? `, ${spec.errorRate * 100}% errors` : "";
      const tail = spec.jitterMs > spec.latencyMs ? `, long tail (sd ${spec.jitterMs} ms)` : "";
      lines.push(
        `${column("backends", i === 0)}${
          spec.name.padEnd(7)
        } ${running.url}  ${spec.latencyMs} ms${tail}, ${spec.capacity} at once${errors}`,
      );
    });
    DEMO_ROUTES.filter((r) => r.service === service.name).forEach((route, i) => {
      lines.push(`${column("try", i === 0)}${curlLine(routeRequest(route, demo.proxyUrl))}`);
    });
    lines.push(
      `${
        column("switch", true)
      }curl -X PUT -d '{"strategy":"peak_ewma"}' ${demo.adminUrl}/api/services/${service.name}/strategy`,
    );
  }
  lines.push("Ctrl-C stops everything.");
  return lines.join("\n");
}

/** Command-line entry; returns the exit code once stopped by SIGINT or SIGTERM. */
export async function main(args: string[] = Deno.args): Promise<number> {
  return await runCli(args, { usage: DEMO_USAGE, parse: parseDemoArgs, run: runDemo });
}

/** Start the demo, print the banner, stop on SIGINT or SIGTERM; 1 when a port is taken. */
async function runDemo(options: DemoOptions): Promise<number> {
  let demo: Demo;
  try {
    demo = await startDemo(options, (line) => console.error(line));
  } catch (error) {
    if (error instanceof DemoCertError) {
      console.error(error.message);
      return 1;
    }
    const reason = error instanceof Error ? error.message : String(error);
    const https = options.tlsPort === null ? "" : `, https ${options.tlsPort}`;
    console.error(
      `Cannot start the demo on 127.0.0.1:${options.port} (admin ${options.adminPort}${https}): ${reason}\n` +
        (options.tlsPort === null
          ? "Pick other ports with --port and --admin-port (or LB_DEMO_PORT, LB_DEMO_ADMIN_PORT)."
          : "Pick other ports with --port, --admin-port and --tls-port (or LB_DEMO_PORT, " +
            "LB_DEMO_ADMIN_PORT, LB_DEMO_TLS_PORT), or serve no HTTPS with --no-tls."),
    );
    return 1;
  }
  console.log(banner(demo, options));
  await stopSignal();
  console.error("stopping: load, proxy, backends");
  await demo.stop();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
