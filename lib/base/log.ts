/**
 * A minimal structured logger: one line per event, `key=value` pairs, to stderr.
 *
 * Injected everywhere (never a global) so tests can capture lines and assert that a state
 * change is logged once, not once per check.
 *
 * @module
 */

/** Log levels in increasing severity. */
export type Level = "debug" | "info" | "warn" | "error";

/** A logging function: a message and optional fields. */
export type Logger = (level: Level, message: string, fields?: Record<string, unknown>) => void;

/**
 * Logger writing `time level message k=v ...` lines to stderr.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "./log.ts";
 * const log = consoleLogger("info");
 * log("info", "backend state changed", { backend: "b1", to: "healthy" });
 * ```
 */
export function consoleLogger(min: Level = "info"): Logger {
  const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  const encoder = new TextEncoder();
  return (level, message, fields) => {
    if (order[level] < order[min]) return;
    let line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}`;
    for (const [k, v] of Object.entries(fields ?? {})) {
      if (v === undefined) continue;
      const s = typeof v === "string" ? v : JSON.stringify(v);
      line += ` ${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`;
    }
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = ((level: Level, message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  }) as Logger & { lines: string[] };
  log.lines = lines;
  return log;
}
