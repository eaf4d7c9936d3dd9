/**
 * Stopping a long-running demo tool on SIGINT or SIGTERM.
 *
 * @module
 */

/**
 * Resolve on the first SIGINT or SIGTERM; this and every later one is then ignored for the rest
 * of the process, which is meant to stop and `Deno.exit()`.
 *
 * Why the listeners are never removed: under `deno task`, one Ctrl-C arrives twice, once from the
 * terminal (it signals the whole foreground process group, the task runner and its child alike)
 * and once forwarded by `deno task`, a moment later. Removing the listeners after the first let
 * the second kill the process with exit code 130, in the middle of its shutdown or just after it
 * (8 of 40 runs of `deno task demo` stopped that way).
 *
 * @returns A promise that resolves when the first stop signal arrives.
 *
 * @example Usage
 * ```ts ignore
 * const backend = startBackend(options);
 * await stopSignal();
 * await backend.close();
 * ```
 */
export function stopSignal(): Promise<void> {
  const signalled = Promise.withResolvers<void>();
  const onSignal = () => signalled.resolve();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, onSignal);
  return signalled.promise;
}
