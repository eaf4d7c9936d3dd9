/**
 * Sort request failures into the kinds an operator acts on differently.
 *
 * A timeout says the target is slow, a connect error that nothing listens (or the name does not
 * resolve), a reset that something closed the connection mid-exchange. Deno's fetch reports them
 * all as `TypeError: fetch failed`, with the detail only in the cause's message, so the text is
 * matched.
 *
 * @module
 */

/** Kinds of failed requests. */
export type ErrorKind = "timeout" | "connect" | "reset" | "other";

/** Every {@linkcode ErrorKind}, in report order. */
export const ERROR_KINDS: readonly ErrorKind[] = ["timeout", "connect", "reset", "other"];

/**
 * Classify an error thrown by `fetch` or by reading a response body.
 *
 * @param error What was thrown; a `TimeoutError` is what the load generator aborts slow requests with.
 * @returns The kind.
 *
 * @example Usage
 * ```ts
 * import { classifyError } from "./errors.ts";
 * classifyError(new DOMException("slow", "TimeoutError")); // "timeout"
 * ```
 */
export function classifyError(error: unknown): ErrorKind {
  if (error instanceof Error && error.name === "TimeoutError") return "timeout";
  const text = describe(error);
  if (/client error \(Connect\)|connection refused|tcp connect|dns error/i.test(text)) return "connect";
  if (
    /connection closed|connection reset|reset by peer|broken pipe|reading a body|unexpected eof/i.test(text)
  ) {
    return "reset";
  }
  if (/timed out/i.test(text)) return "timeout";
  return "other";
}

/** The error's message followed by its causes' messages. */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(" | ");
}
