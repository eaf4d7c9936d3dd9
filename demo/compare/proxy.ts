/**
 * A thread that hosts a fresh proxy per comparison run.
 *
 * The proxy under test gets its own event loop, as it would on its own machine: the load
 * generator and the backends run on the main thread, so their work does not queue behind the
 * proxy's (and the proxy's not behind theirs) more than the two cores force. The thread is kept
 * across runs and only the proxy is new each time, which saves starting a runtime per run.
 *
 * @module
 */

import type { LagStats } from "../shared/mod.ts";
import type { ProxyCommand, ProxyEvent } from "./proxy_worker.ts";

/** A started proxy: where to send requests and its admin listener. */
export interface HostedProxy {
  readonly url: string;
  readonly adminUrl: string;
}

/** The proxy thread; see {@linkcode openProxyHost}. */
export interface ProxyHost {
  /** Start a proxy from config text (listeners on port 0 are fine). */
  start(yaml: string): Promise<HostedProxy>;
  /** Shut the proxy down; resolves with the proxy thread's event-loop lag while it ran. */
  stop(): Promise<LagStats>;
  /** End the thread. */
  close(): void;
}

/**
 * Start the proxy thread.
 *
 * @example Usage
 * ```ts ignore
 * const host = openProxyHost();
 * const proxy = await host.start(yaml);
 * // ... load against proxy.url ...
 * const lag = await host.stop();
 * host.close();
 * ```
 */
export function openProxyHost(): ProxyHost {
  const worker = new Worker(new URL("./proxy_worker.ts", import.meta.url).href, { type: "module" });
  let pending: PromiseWithResolvers<ProxyEvent> | undefined;
  worker.onmessage = (event: MessageEvent<ProxyEvent>) => pending?.resolve(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    pending?.reject(new Error(`proxy thread failed: ${event.message}`));
  };
  const ask = (command: ProxyCommand): Promise<ProxyEvent> => {
    pending = Promise.withResolvers<ProxyEvent>();
    worker.postMessage(command);
    return pending.promise;
  };
  return {
    async start(yaml) {
      const reply = await ask({ type: "start", yaml });
      if (reply.type !== "started") throw new Error(reply.type === "error" ? reply.message : reply.type);
      return {
        url: `http://127.0.0.1:${reply.proxyPort}/`,
        adminUrl: `http://127.0.0.1:${reply.adminPort}`,
      };
    },
    async stop() {
      const reply = await ask({ type: "stop" });
      if (reply.type !== "stopped") throw new Error(reply.type === "error" ? reply.message : reply.type);
      return reply.lag;
    },
    close: () => worker.terminate(),
  };
}
