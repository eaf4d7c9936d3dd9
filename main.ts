/**
 * Command line entry point.
 *
 * ```
 * deno task start [--config PATH] [--strategy NAME] [--check] [--help] [--version]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { STRATEGY_NAMES } from "./algorithms/mod.ts";
import {
  type BackendConfig,
  type Config,
  type ConfigResult,
  formatDuration,
  type HedgingConfig,
  loadConfig,
  needsDocker,
  type RouteMatch,
  type ServiceConfig,
  workerCount,
} from "./lib/config/mod.ts";
import { resolveStrategyName } from "./algorithms/mod.ts";
import { consoleLogger, VERSION } from "./lib/base/mod.ts";
import { ListenError, type LoadBalancer, startLoadBalancer } from "./lib/server/mod.ts";
import { Registry } from "prom-client";

const HELP = `lb ${VERSION}: a load-balancing reverse proxy with Prometheus metrics

Usage: deno task start [options]

Options:
  --config PATH     config file (default ./config.yml; env LB_CONFIG)
  --strategy NAME   override every service's strategy (${STRATEGY_NAMES.join(", ")})
  --check           validate the config, print a summary, exit 0 (valid) or 1
  --help            show this help
  --version         print the version
`;

/** One-screen summary of a valid config for `--check`. */
export function summary(config: Config, path: string): string {
  const lines = [
    `${path}: OK`,
    `  listen      ${config.listen.hostname}:${config.listen.port}`,
    `  admin       ${config.admin.listen.hostname}:${config.admin.listen.port}${
      config.admin.token ? " (token set)" : ""
    }`,
    `  timeouts    request ${formatDuration(config.timeouts.requestMs)}, connect ${
      formatDuration(config.timeouts.connectMs)
    }, shutdown ${formatDuration(config.shutdownTimeoutMs)}`,
    `  docker      ${dockerSummary(config)}`,
    `  workers     ${workersSummary(config)}`,
  ];
  for (const s of config.services) lines.push(...serviceSummary(s));
  lines.push("  routes");
  for (const r of config.routes) {
    const targets = r.targets.map((t) => r.targets.length > 1 ? `${t.service} ${t.weight}` : t.service);
    lines.push(
      `    ${r.name.padEnd(12)}${describeMatch(r.match)} -> ${targets.join(", ")}${
        r.stripPrefix ? " (prefix stripped)" : ""
      }`,
    );
  }
  return lines.join("\n");
}

function serviceSummary(s: ServiceConfig): string[] {
  const hc = s.healthCheck;
  const lines = [
    `  service     ${s.name}`,
    `    strategy    ${s.strategy}`,
    `    health      GET ${hc.path} every ${formatDuration(hc.intervalMs)}, timeout ${
      formatDuration(hc.timeoutMs)
    }, ` +
    `up after ${hc.healthyThreshold}, down after ${hc.unhealthyThreshold}`,
    `    resilience  ${s.retries.attempts} retries (budget ${s.retries.budget}), eject after ${s.passive.consecutiveFailures} failures, slow start ${
      formatDuration(s.slowStartMs)
    }`,
    ...(s.hedging ? [`    hedging     ${hedgingSummary(s.hedging)}`] : []),
    ...(s.sticky
      ? [
        `    sticky      cookie ${s.sticky.cookie}, max age ${
          formatDuration(s.sticky.maxAgeMs)
        } (secret set)`,
      ]
      : []),
    `    backends    ${s.backends.length}`,
    ...s.backends.slice(0, 20).map((b) =>
      `      ${b.name.padEnd(24)} ${b.url}  weight ${b.weight}${
        b.container ? `  container ${b.container}` : ""
      }${tlsSummary(b)}`
    ),
  ];
  if (s.backends.length > 20) lines.push(`      ... and ${s.backends.length - 20} more`);
  return lines;
}

/** `hedging` as `--check` shows it: when a hedge goes out and how many may. */
function hedgingSummary(h: HedgingConfig): string {
  const when = h.delay.kind === "fixed"
    ? `${formatDuration(h.delay.ms)} without response headers`
    : `the service's p${h.delay.percentile} time to response headers`;
  return `after ${when}, at most ${+(h.maxRatio * 100).toFixed(3)}% of requests`;
}

/** A backend's `tls`, as `--check` shows it: what its certificate is checked for and against. */
function tlsSummary(b: BackendConfig): string {
  const t = b.tls;
  if (!t) return "";
  const ca = t.ca === undefined ? "" : `  ca ${t.ca} (${t.caCount} certificate${t.caCount === 1 ? "" : "s"})`;
  return `${t.serverName === undefined ? "" : `  server_name ${t.serverName}`}${ca}`;
}

function describeMatch(m: RouteMatch): string {
  const parts = [
    m.host ? `host ${m.host.kind === "exact" ? m.host.name : `*${m.host.suffix}`}` : "",
    m.pathPrefix ? `path ${m.pathPrefix}` : "",
    m.methods ? m.methods.join("|") : "",
    ...(m.headers ?? []).map(([n, v]) => `${n}: ${v}`),
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "(everything)";
}

/** How many isolates accept, in one line (`auto` shows what it means on this machine). */
function workersSummary(config: Config): string {
  const n = workerCount(config.workers, navigator.hardwareConcurrency);
  const what = n === 1 ? "1 (one isolate)" : `${n} isolates on SO_REUSEPORT sockets`;
  return config.workers === "auto" ? `auto: ${what}` : what;
}

/** When and why the proxy talks to Docker, in one line. */
function dockerSummary(config: Config): string {
  const d = config.discovery.docker;
  if (!needsDocker(config)) return "not used";
  const containers = config.services.some((s) => s.backends.some((b) => b.container));
  const on = d.network ? ` on ${d.network}` : "";
  const discovery = d.mode === "swarm"
    ? `discovery of swarm services labelled ${d.label}${on}, listed every ${
      formatDuration(d.pollIntervalMs)
    }` +
      (d.dnsFallback.length
        ? `, DNS fallback ${d.dnsFallback.map((t) => `tasks.${t.name}:${t.port}`).join(" ")}`
        : "")
    : `discovery of containers labelled ${d.label}${on}`;
  const uses = [d.enabled ? discovery : "", containers || d.enabled ? "container stats" : ""].filter(Boolean);
  return `${d.socket}: ${uses.join(", ")}`;
}

/** Run the command line; returns the exit code (the server keeps running until a signal). */
export async function main(args: string[] = Deno.args): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args,
      options: {
        config: { type: "string" },
        strategy: { type: "string" },
        check: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
        version: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (flags.help) return console.log(HELP), 0;
  if (flags.version) return console.log(VERSION), 0;

  const path = flags.config ?? Deno.env.get("LB_CONFIG") ?? "./config.yml";
  const override = flags.strategy === undefined ? undefined : resolveStrategyName(flags.strategy);
  if (flags.strategy !== undefined && !override) {
    console.error(`--strategy: unknown strategy "${flags.strategy}"; valid: ${STRATEGY_NAMES.join(", ")}`);
    return 1;
  }
  // --strategy wins over the file at start and on every reload: it is the operator's choice.
  const source = async (): Promise<ConfigResult> => {
    const r = await loadConfig(path);
    if (!r.ok || !override) return r;
    const services = r.config.services.map((s) => ({ ...s, strategy: override }));
    return {
      ok: true,
      config: { ...r.config, defaults: { ...r.config.defaults, strategy: override }, services },
    };
  };
  const result = await source();
  if (!result.ok) {
    for (const e of result.errors) console.error(e);
    return 1;
  }
  if (flags.check) return console.log(summary(result.config, path)), 0;

  // Signal handlers go in before anything listens: a SIGHUP that arrives during startup would
  // otherwise terminate the process (its default action) instead of reloading.
  const running: { lb?: LoadBalancer; reloadPending?: boolean } = {};
  const reload = () => {
    if (running.lb) void running.lb.reload();
    else running.reloadPending = true;
  };
  Deno.addSignalListener("SIGHUP", reload);
  // logrotate's convention (as NGINX): SIGUSR1 reopens the access log file.
  const reopen = () => void running.lb?.reopenLogs();
  Deno.addSignalListener("SIGUSR1", reopen);
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => stop = resolve);
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);

  const registry = new Registry();
  let lb: LoadBalancer;
  try {
    lb = running.lb = await startLoadBalancer(result.config, {
      registry,
      log: consoleLogger("info"),
      configSource: source,
    });
  } catch (e) {
    if (!(e instanceof ListenError)) throw e;
    console.error(`${path}: ${e.message}`);
    Deno.removeSignalListener("SIGHUP", reload);
    Deno.removeSignalListener("SIGUSR1", reopen);
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    return 1;
  }
  if (running.reloadPending) void lb.reload();
  await stopped;
  Deno.removeSignalListener("SIGHUP", reload);
  Deno.removeSignalListener("SIGUSR1", reopen);
  await lb.shutdown();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
