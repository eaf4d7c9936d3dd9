/**
 * The worker's end of the owner link: messages handled one at a time in arrival order (so a
 * snapshot sent after a config is applied after it), questions answered with a reply of the same
 * `seq`, log lines forwarded to the owner's log, and the owner's container samples kept for
 * `least_resources`.
 *
 * @module
 */

import type { ResourceSample, ResourceStats } from "../../algorithms/mod.ts";
import type { Logger } from "../base/mod.ts";
import type { Config } from "../config/mod.ts";
import type { MetricJson } from "../metrics/mod.ts";
import type { FromWorker, InitMessage, PemPair, Snapshot, ToWorker, WorkerReport } from "./protocol.ts";

/** The parts of a worker's global scope this uses (`self` in a Web Worker). */
export interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  close(): void;
}

/** What a worker does for each message from the owner. */
export interface WorkerHandlers {
  /** Build everything and listen; throwing reports the failure and ends the worker. */
  init(message: InitMessage): Promise<void>;
  /** Take the owner's state (after a reload, its config first). */
  sync(config: Config | undefined, snapshot: Snapshot): Promise<void>;
  /** Reopen the access log file. */
  reopen(): Promise<void>;
  rotate(pair: PemPair): Promise<void>;
  metrics(): Promise<readonly MetricJson[]>;
  report(): WorkerReport;
  /** Drain and close; the owner ends the isolate after the answer. */
  shutdown(): Promise<void>;
}

/** Serve the owner's messages on `scope` with `handlers`; see the module documentation. */
export function serveOwner(scope: WorkerScope, handlers: WorkerHandlers, samples: MirrorStats): void {
  let queue = Promise.resolve();
  const answer = async (seq: number, work: () => unknown) => {
    try {
      scope.postMessage({ type: "reply", seq, value: await work() });
    } catch (e) {
      scope.postMessage({ type: "reply", seq, error: (e as Error).message ?? String(e) });
    }
  };
  const handle = async (m: ToWorker): Promise<void> => {
    switch (m.type) {
      case "init":
        try {
          await handlers.init(m);
          scope.postMessage({ type: "ready" });
        } catch (e) {
          scope.postMessage({ type: "failed", error: (e as Error).message ?? String(e) });
          scope.close();
        }
        return;
      case "sync":
        return await answer(m.seq, () => handlers.sync(m.config, m.snapshot));
      case "reopen":
        return await answer(m.seq, () => handlers.reopen());
      case "rotate":
        return await answer(m.seq, () => handlers.rotate(m.pair));
      case "metrics":
        return await answer(m.seq, () => handlers.metrics());
      case "report":
        return await answer(m.seq, () => handlers.report());
      case "shutdown":
        return await answer(m.seq, () => handlers.shutdown());
      case "samples":
        return samples.take(m.samples);
    }
  };
  scope.onmessage = (event) => {
    queue = queue.then(() => handle(event.data));
  };
}

/** A logger that hands every line of `min` severity or above to the owner's log. */
export function ownerLogger(scope: WorkerScope, min: "warn" | "error" = "warn"): Logger {
  return (level, message, fields) => {
    if (level === "debug" || level === "info" || (min === "error" && level === "warn")) return;
    // Fields may hold anything a log call passes; only what survives JSON crosses.
    const plain = fields === undefined ? undefined : JSON.parse(JSON.stringify(fields));
    scope.postMessage({ type: "log", level, message, fields: plain });
  };
}

/** The owner's container samples, as a worker's `least_resources` reads them. */
export class MirrorStats implements ResourceStats {
  #samples = new Map<string, ResourceSample>();

  /** Replace the samples by the owner's latest. */
  take(samples: readonly (readonly [string, ResourceSample])[]): void {
    this.#samples = new Map(samples);
  }

  get(backend: string): ResourceSample | undefined {
    return this.#samples.get(backend);
  }
}
