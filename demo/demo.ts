/**
 * `deno task demo`: the whole thing in one command, without Docker. Four demo backends with
 * different profiles on loopback, the proxy in front of them with its status page, and
 * optionally steady background load so the numbers move.
 *
 * ```
 * deno task demo [--port 8080] [--admin-port 8081] [--strategy NAME] [--load] [--rate 100]
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
import { type RunningBackend, startSpecBackend } from "./backend/mod.ts";
import { DEMO_BACKENDS, DEMO_USAGE, type DemoOptions, parseDemoArgs } from "./demo_config.ts";
import { formatProgress, runLoad, type Summary } from "./load/mod.ts";

/** Longest the background load runs: a bound, not a plan; Ctrl-C normally ends it first. */
const LOAD_LIMIT_MS = 24 * 3_600_000;
/** Clients of the background load, each with its own X-Forwarded-For address. */
const LOAD_CLIENTS = 10;

/** A running demo. */
export interface Demo {
  readonly proxyUrl: string;
  readonly adminUrl: string;
  readonly backends: readonly RunningBackend[];
  readonly lb: LoadBalancer;
  /** Stop the load (if any), the proxy and the backends. */
  stop(): Promise<void>;
}

/**
 * Start the backends, the proxy and, with `options.load`, the background load.
 *
 * @throws When a listener cannot bind (port taken); the backends started so far are closed.
 */
export async function startDemo(options: DemoOptions, onLoadLine: (line: string) => void): Promise<Demo> {
  const backends = DEMO_BACKENDS.map((spec, i) => startSpecBackend(spec, i + 1));
  const closeBackends = () => Promise.all(backends.map((b) => b.close()));
  const built = buildProxyConfig({
    listen: `127.0.0.1:${options.port}`,
    adminListen: `127.0.0.1:${options.adminPort}`,
    strategy: options.strategy,
    backends: backends.map((b, i) => ({ name: b.name, url: b.url, weight: DEMO_BACKENDS[i].weight })),
    healthInterval: "2s",
    shutdownTimeout: "5s",
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
  const stopLoad = new AbortController();
  let load: Promise<Summary> | undefined;
  if (options.load) {
    load = runLoad({
      url: proxyUrl,
      clients: LOAD_CLIENTS,
      rate: options.rate / LOAD_CLIENTS,
      durationMs: LOAD_LIMIT_MS,
      timeoutMs: 5_000,
    }, {
      signal: stopLoad.signal,
      progressIntervalMs: 10_000,
      onProgress: (p) => onLoadLine(`load: ${formatProgress(p)}`),
    });
  }
  return {
    proxyUrl,
    adminUrl: `http://127.0.0.1:${lb.adminAddr.port}`,
    backends,
    lb,
    async stop() {
      stopLoad.abort(new Error("demo stopping"));
      await load;
      await lb.shutdown();
      await closeBackends();
    },
  };
}

/** What the demo prints once it is up: where everything is and what to try. */
export function banner(demo: Demo, options: DemoOptions): string {
  const load = options.load ? `, background load ${options.rate} req/s` : "";
  const lines = [
    `lb demo: ${demo.backends.length} backends on loopback, strategy ${options.strategy}${load}`,
    `  proxy        ${demo.proxyUrl}`,
    `  status page  ${demo.adminUrl}/`,
    `  metrics      ${demo.adminUrl}/metrics`,
    `  stats        ${demo.adminUrl}/api/stats`,
    ...demo.backends.map((b, i) => {
      const s = DEMO_BACKENDS[i];
      const errors = s.errorRate ? `, ${s.errorRate * 100}% errors` : "";
      return `  ${i === 0 ? "backends" : "        "}     ${
        b.name.padEnd(7)
      } ${b.url}  ${s.latencyMs} ms, ${s.capacity} at once${errors}`;
    }),
    `  try          curl -i ${demo.proxyUrl}`,
    `  switch       curl -X PUT -d '{"strategy":"peak_ewma"}' ${demo.adminUrl}/api/strategy`,
    "Ctrl-C stops everything.",
  ];
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
    const reason = error instanceof Error ? error.message : String(error);
    console.error(
      `Cannot start the demo on 127.0.0.1:${options.port} (admin ${options.adminPort}): ${reason}\n` +
        "Pick other ports with --port and --admin-port (or LB_DEMO_PORT, LB_DEMO_ADMIN_PORT).",
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
