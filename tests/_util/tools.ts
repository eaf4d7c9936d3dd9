/**
 * Gate tests on external tools (promtool, prometheus, docker, chromium, ...).
 *
 * On a laptop without the tool the test is ignored with a message naming it; under
 * `LB_REQUIRE_ALL=1` (set by `.ci/run`) a missing tool fails the test instead, so CI can never
 * pass by skipping.
 *
 * @module
 */

const found = new Map<string, string | undefined>();

/** Absolute path of `command` on PATH, or undefined. Cached. */
export function which(command: string): string | undefined {
  if (found.has(command)) return found.get(command);
  let path: string | undefined;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const candidate = `${dir}/${command}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && (info.mode ?? 0o111) & 0o111) {
        path = candidate;
        break;
      }
    } catch { /* not here */ }
  }
  found.set(command, path);
  return path;
}

/** True when `LB_REQUIRE_ALL=1`: a missing tool is a failure, not a skip. */
export const requireAll: boolean = Deno.env.get("LB_REQUIRE_ALL") === "1";

/**
 * Register a test that needs external tools or conditions.
 *
 * `missing` returns a reason string when the test cannot run here, or undefined when it can.
 */
export function gatedTest(
  name: string,
  missing: () => string | undefined,
  fn: (t: Deno.TestContext) => Promise<void> | void,
  options: { sanitizeOps?: boolean; sanitizeResources?: boolean } = {},
): void {
  const reason = missing();
  if (reason !== undefined && !requireAll) {
    console.warn(`skipping "${name}": ${reason} (set LB_REQUIRE_ALL=1 to make this a failure)`);
  }
  Deno.test({
    name,
    ignore: reason !== undefined && !requireAll,
    ...options,
    fn: async (t) => {
      if (reason !== undefined) throw new Error(`cannot run under LB_REQUIRE_ALL=1: ${reason}`);
      await fn(t);
    },
  });
}

/** A `missing` function for {@linkcode gatedTest} that requires commands on PATH. */
export function needs(...commands: string[]): () => string | undefined {
  return () => {
    const absent = commands.filter((c) => which(c) === undefined);
    return absent.length ? `${absent.join(", ")} not found on PATH` : undefined;
  };
}

/** `promise`, or a rejection naming `what` after `ms` (so a broken server fails a test instead of hanging it). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
