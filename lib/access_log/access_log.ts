/**
 * The access log: `access_log` in the config, one line per finished exchange. It owns its file:
 * opened before the config that names it takes effect (at start, and on a reload, which a file
 * that cannot be opened fails with one line), reopened on SIGUSR1 after logrotate moved it, and
 * flushed and closed at shutdown.
 *
 * @module
 */

import { Counter, type Registry } from "prom-client";
import type { Logger } from "../base/mod.ts";
import type { AccessLogConfig } from "../config/mod.ts";
import { type AccessRecord, LineTimes, writeCommon, writeJson } from "./record.ts";
import { LineWriter, type LineWriterOptions, type Sink } from "./writer.ts";

/** Where lines go and how they are batched; replaceable in tests. */
export interface AccessLogOptions {
  readonly registry: Registry;
  readonly log: Logger;
  /** Open the sink for `path` (`-` is standard output). @default {@linkcode openSink} */
  readonly open?: (path: string) => Promise<Sink>;
  readonly writer?: Omit<LineWriterOptions, "onDrop" | "onError">;
}

/**
 * Standard output, or `path` opened for appending (created 0644 when missing).
 *
 * Several isolates (`workers` > 1) each write their own batches to the same place, so a line must
 * never be split by another isolate's write. A file is opened with `O_APPEND`: each write lands
 * whole at the end of the file (POSIX `write(2)`), and a batch is whole lines. Standard output may
 * be a pipe, where only writes of at most `PIPE_BUF` (4096 bytes on Linux) are atomic, so a batch
 * goes in pieces of whole lines no larger than that (a single longer line goes alone).
 */
export async function openSink(path: string): Promise<Sink> {
  if (path === "-") {
    return {
      write: async (p) => {
        for (const piece of linePieces(p, PIPE_BUF)) {
          for (let off = 0; off < piece.length;) off += await Deno.stdout.write(piece.subarray(off));
        }
        return p.length;
      },
      close: () => {},
    };
  }
  const file = await Deno.open(path, { append: true, create: true, mode: 0o644 });
  return {
    write: (p) => file.write(p),
    close: () => {
      try {
        file.close();
      } catch { /* already closed */ }
    },
  };
}

/** Linux's `PIPE_BUF`: writes up to this size to a pipe are never interleaved with another's. */
const PIPE_BUF = 4096;

/**
 * `data` (whole lines, each ending in `\n`) cut at line ends into pieces of at most `max` bytes;
 * a line longer than `max` is a piece of its own.
 *
 * @example
 * ```ts
 * import { linePieces } from "./access_log.ts";
 * const data = new TextEncoder().encode("aa\nbb\ncc\n");
 * linePieces(data, 6).map((p) => p.length); // [6, 3]
 * ```
 */
export function linePieces(data: Uint8Array, max: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  while (start < data.length) {
    if (data.length - start <= max) {
      pieces.push(data.subarray(start));
      break;
    }
    // The last line end within `max` bytes, or (one long line) the first line end after.
    let end = data.lastIndexOf(10, start + max - 1) + 1;
    if (end <= start) end = data.indexOf(10, start + max) + 1 || data.length;
    pieces.push(data.subarray(start, end));
    start = end;
  }
  return pieces;
}

/** The running access log. */
export class AccessLog {
  #config: AccessLogConfig;
  #writer: LineWriter | undefined;
  readonly #open: (path: string) => Promise<Sink>;
  readonly #options: AccessLogOptions;
  readonly #dropped: Counter<"reason">;
  readonly #times = new LineTimes();

  private constructor(config: AccessLogConfig, options: AccessLogOptions) {
    this.#config = config;
    this.#options = options;
    this.#open = options.open ?? openSink;
    this.#dropped = new Counter({
      name: "lb_access_log_dropped_total",
      help: "Access-log lines lost: the write buffer was full (disk or pipe too slow), or the write failed.",
      labelNames: ["reason"],
      registers: [options.registry],
    });
    for (const reason of ["buffer_full", "write_error"]) this.#dropped.inc({ reason }, 0);
  }

  /**
   * Open the log `config` describes.
   *
   * @throws {Error} one line naming `access_log.path` when the file cannot be opened
   */
  static async open(config: AccessLogConfig, options: AccessLogOptions): Promise<AccessLog> {
    const log = new AccessLog(config, options);
    if (config.enabled) log.#writer = log.#newWriter(await log.#sinkFor(config.path));
    return log;
  }

  /** True when lines are written: callers skip building records otherwise. */
  get enabled(): boolean {
    return this.#writer !== undefined;
  }

  /** Write one record (nothing when the log is off). */
  write(record: AccessRecord): void {
    const w = this.#writer;
    if (!w) return;
    const out = w.beginLine();
    if (this.#config.format === "json") writeJson(record, out, this.#times);
    else writeCommon(record, out, this.#times);
    w.endLine();
  }

  /**
   * Take a reloaded `access_log`: a new path is opened before the old file is closed.
   *
   * @returns an error line when the new file cannot be opened (the running log stays as it was)
   */
  async apply(next: AccessLogConfig): Promise<string | undefined> {
    const prev = this.#config;
    if (prev.enabled === next.enabled && prev.path === next.path) {
      this.#config = next;
      return undefined;
    }
    let sink: Sink | undefined;
    if (next.enabled) {
      try {
        sink = await this.#sinkFor(next.path);
      } catch (e) {
        return (e as Error).message;
      }
    }
    const old = this.#writer;
    this.#writer = sink ? this.#newWriter(sink) : undefined;
    this.#config = next;
    await old?.close();
    return undefined;
  }

  /** Reopen the file (logrotate moved it: SIGUSR1); standard output is left as it is. */
  async reopen(): Promise<void> {
    const w = this.#writer;
    if (!w || this.#config.path === "-") return;
    try {
      await w.replace(await this.#sinkFor(this.#config.path));
      this.#options.log("info", "access log reopened", { path: this.#config.path });
    } catch (e) {
      this.#options.log("error", "access log reopen failed; still writing to the old file", {
        error: (e as Error).message,
      });
    }
  }

  /** Write what is queued and close the file. */
  async close(): Promise<void> {
    const w = this.#writer;
    this.#writer = undefined;
    await w?.close();
  }

  async #sinkFor(path: string): Promise<Sink> {
    try {
      return await this.#open(path);
    } catch (e) {
      const why = e instanceof Deno.errors.NotCapable
        ? `the process may not write there (grant it with --allow-write=${path})`
        : e instanceof Deno.errors.PermissionDenied
        ? "permission denied"
        : e instanceof Deno.errors.NotFound
        ? "no such directory"
        : (e as Error).message;
      throw new Error(`access_log.path: cannot open ${path}: ${why}`);
    }
  }

  #newWriter(sink: Sink): LineWriter {
    return new LineWriter(sink, {
      ...this.#options.writer,
      onDrop: (n, reason) => this.#dropped.inc({ reason }, n),
      onError: (e) =>
        this.#options.log("error", "access log write failed; lines are dropped until it works again", {
          path: this.#config.path,
          error: e.message,
        }),
    });
  }
}
