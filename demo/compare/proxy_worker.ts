/**
 * Worker side of {@linkcode openProxyHost}: runs one proxy at a time on its own thread.
 *
 * Messages in: `{type: "start", yaml}` and `{type: "stop"}`. Messages out: `{type: "started",
 * proxyPort, adminPort}`, `{type: "stopped", lag}` or `{type: "error", message}`.
 *
 * @module
 */

import { parseConfig } from "../../lib/config/mod.ts";
import { memoryLogger } from "../../lib/base/mod.ts";
import { type LoadBalancer, startLoadBalancer } from "../../lib/server/mod.ts";
import { type LagStats, startLagMonitor } from "../shared/mod.ts";

/** A message to the worker. */
export type ProxyCommand = { type: "start"; yaml: string } | { type: "stop" };

/** A message from the worker. */
export type ProxyEvent =
  | { type: "started"; proxyPort: number; adminPort: number }
  | { type: "stopped"; lag: LagStats }
  | { type: "error"; message: string };

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ProxyCommand>) => void) | null;
  postMessage(message: ProxyEvent): void;
};

/** The running proxy and the lag monitor of this thread; one at a time. */
interface Running {
  lb?: LoadBalancer;
  lag?: { stop(): LagStats };
}

async function handle(running: Running, command: ProxyCommand): Promise<ProxyEvent> {
  if (command.type === "start") {
    if (running.lb) return { type: "error", message: "a proxy is already running" };
    const parsed = parseConfig(command.yaml, { file: "compare config", env: () => undefined });
    if (!parsed.ok) return { type: "error", message: parsed.errors.join("\n") };
    running.lb = await startLoadBalancer(parsed.config, { log: memoryLogger(), processMetrics: false });
    running.lag = startLagMonitor();
    return { type: "started", proxyPort: running.lb.proxyAddr.port, adminPort: running.lb.adminAddr.port };
  }
  const lag = running.lag?.stop() ?? { p99: 0, max: 0 };
  await running.lb?.shutdown();
  running.lb = undefined;
  running.lag = undefined;
  return { type: "stopped", lag };
}

/** Answer commands one by one until the worker is terminated. */
function serve(): void {
  const running: Running = {};
  scope.onmessage = (event) => {
    handle(running, event.data).then(
      (reply) => scope.postMessage(reply),
      (error) =>
        scope.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) }),
    );
  };
}

serve();
