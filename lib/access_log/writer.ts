/**
 * Lines to a file or standard output without ever making a request wait for the disk.
 *
 * `push` only appends to an in-memory batch. One write is in flight at a time; the batch is
 * written when it reaches `flushBytes` or `flushMs` after its first line, whichever is first (as
 * NGINX's `access_log ... buffer= flush=`). The batch is bounded: a line that would take it past
 * `maxBufferBytes` is dropped and counted, so a stalled disk or a blocked pipe costs lines, never
 * memory or latency.
 *
 * @module
 */

import { LineBytes } from "./line_bytes.ts";

/** Where lines go: an open file, or standard output. */
export interface Sink {
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** Tuning and reporting of a {@linkcode LineWriter}. */
export interface LineWriterOptions {
  /** Most bytes waiting to be written; beyond, lines are dropped. @default 1 MiB */
  readonly maxBufferBytes?: number;
  /** A batch this large is written at once. @default 64 KiB */
  readonly flushBytes?: number;
  /** A batch is written at the latest this long after its first line. @default 200 */
  readonly flushMs?: number;
  /** Told of lines lost: the buffer was full, or the write failed. */
  readonly onDrop: (lines: number, reason: "buffer_full" | "write_error") => void;
  /** Told of a failed write (the caller logs it, at most once per failure streak). */
  readonly onError: (error: Error) => void;
}

/** A batched, bounded writer of lines to a {@linkcode Sink}. */
export class LineWriter {
  #sink: Sink;
  /** Lines waiting, as bytes; the batch being written is another one. */
  #batch: LineBytes;
  /** A written batch kept for reuse, so batches cost no allocation. */
  #spare: LineBytes | undefined;
  #lines = 0;
  #lineStart = 0;
  #writing: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failing = false;
  readonly #max: number;
  readonly #flushBytes: number;
  readonly #flushMs: number;
  readonly #options: LineWriterOptions;

  constructor(sink: Sink, options: LineWriterOptions) {
    this.#sink = sink;
    this.#options = options;
    this.#max = options.maxBufferBytes ?? 1024 * 1024;
    this.#flushBytes = options.flushBytes ?? 64 * 1024;
    this.#flushMs = options.flushMs ?? 200;
    this.#batch = new LineBytes(Math.min(this.#max, this.#flushBytes + 4096));
  }

  /** Queue `line` (without its newline; ASCII, so one byte per character). */
  push(line: string): void {
    this.beginLine().ascii(line);
    this.endLine();
  }

  /**
   * Where the next line goes: write it (without its newline) into the returned bytes, then call
   * {@linkcode endLine}. Nothing else may be queued in between.
   */
  beginLine(): LineBytes {
    this.#lineStart = this.#batch.length;
    return this.#batch;
  }

  /** End the line begun by {@linkcode beginLine}: it is queued, or dropped when the buffer is full. */
  endLine(): void {
    const batch = this.#batch;
    batch.byte(10);
    if (batch.length > this.#max) {
      batch.truncate(this.#lineStart);
      return this.#options.onDrop(1, "buffer_full");
    }
    this.#lines++;
    if (batch.length >= this.#flushBytes) {
      if (!this.#writing) this.#writing = this.#drain(false);
    } else if (this.#timer === undefined && !this.#writing) this.#later();
  }

  /** Write what is queued `flushMs` from now, full batch or not. */
  #later(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#writing) this.#writing = this.#drain(true);
    }, this.#flushMs);
  }

  /** Write everything queued so far; resolves when it is written (or dropped on error). */
  async flush(): Promise<void> {
    while (this.#writing || this.#lines > 0) {
      this.#writing ??= this.#drain(true);
      await this.#writing;
    }
  }

  /** Flush, then swap in `sink` (a reopened file); the old one is closed. */
  async replace(sink: Sink): Promise<void> {
    await this.flush();
    const old = this.#sink;
    this.#sink = sink;
    if (old !== sink) old.close();
  }

  /** Flush and close the sink. */
  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#sink.close();
  }

  /**
   * Write batches, one write at a time: every line queued when `all`, else only while a full batch
   * (`flushBytes`) is waiting. Lines that come in while a write is in flight are not written the
   * moment it ends: under load that made a write of one or two lines per request (measured: 6 µs
   * of system calls per request); they wait for a full batch or `flushMs`, as a first line does.
   */
  async #drain(all: boolean): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      while (this.#lines > 0 && (all || this.#batch.length >= this.#flushBytes)) {
        const batch = this.#batch;
        const lines = this.#lines;
        this.#batch = this.#spare ?? new LineBytes(batch.bytes().length);
        this.#spare = undefined;
        this.#lines = 0;
        const data = batch.bytes();
        try {
          for (let off = 0; off < data.length;) off += await this.#sink.write(data.subarray(off));
          this.#failing = false;
        } catch (e) {
          this.#options.onDrop(lines, "write_error");
          if (!this.#failing) this.#options.onError(e as Error);
          this.#failing = true;
        }
        batch.truncate(0);
        this.#spare = batch;
      }
    } finally {
      this.#writing = undefined;
      if (this.#lines > 0 && this.#timer === undefined) this.#later();
    }
  }
}
