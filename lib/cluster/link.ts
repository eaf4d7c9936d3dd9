/**
 * The owner's end of one worker: posting messages, and asking (a message with a `seq`, answered
 * by a reply of the same `seq`) with a time limit, so a busy or stuck worker delays an admin call
 * by at most that limit instead of hanging it.
 *
 * @module
 */

import type { FromWorker, Reply, ToWorker } from "./protocol.ts";

/** What a link needs from a `Worker`: the two directions of `postMessage`. */
export interface Port {
  postMessage(message: ToWorker): void;
  onmessage: ((event: MessageEvent<FromWorker>) => void) | null;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Messages with a `seq`, without it: {@linkcode Link.ask} adds one. */
type Question = ToWorker extends infer M ? M extends { seq: number } ? Omit<M, "seq"> : never : never;

/**
 * One worker as the owner talks to it.
 *
 * @example
 * ```ts ignore
 * const link = new Link(1, worker, (message) => handle(message));
 * const json = await link.ask({ type: "metrics" }, 2000);
 * ```
 */
export class Link {
  /** The worker's number (1 and up). */
  readonly worker: number;
  readonly #port: Port;
  #seq = 0;
  #pending = new Map<number, Pending>();
  #ended: string | undefined;

  /** `onMessage` hears every message that is not a reply. */
  constructor(worker: number, port: Port, onMessage: (message: FromWorker) => void) {
    this.worker = worker;
    this.#port = port;
    port.onmessage = (event) => {
      const m = event.data;
      if (m.type === "reply") this.#answer(m);
      else onMessage(m);
    };
  }

  /** Send without waiting for anything. */
  post(message: ToWorker): void {
    if (this.#ended === undefined) this.#port.postMessage(message);
  }

  /**
   * Send `question` and wait for its reply's value.
   *
   * @throws {Error} when the worker answers with an error, does not answer within `timeoutMs`,
   *   or ends first
   */
  ask<T>(question: Question, timeoutMs: number): Promise<T> {
    if (this.#ended !== undefined) return Promise.reject(new Error(this.#ended));
    const seq = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new Error(`worker ${this.worker} did not answer ${question.type} within ${timeoutMs}ms`));
      }, timeoutMs);
      this.#pending.set(seq, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#port.postMessage({ ...question, seq } as ToWorker);
    });
  }

  /** The worker is gone: every question still open fails with `reason`, and later ones at once. */
  end(reason: string): void {
    this.#ended = reason;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
    }
    this.#pending.clear();
  }

  #answer(reply: Reply): void {
    const p = this.#pending.get(reply.seq);
    if (!p) return;
    this.#pending.delete(reply.seq);
    clearTimeout(p.timer);
    if (reply.error !== undefined) p.reject(new Error(reply.error));
    else p.resolve(reply.value);
  }
}
