/**
 * Small timing helpers shared by the demo tools.
 *
 * @module
 */

import process from "node:process";

/** CPU time (user + system) this process has used, in milliseconds. */
export function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1_000;
}

/**
 * Resolve after `ms` milliseconds, or reject with the signal's reason as soon as it aborts.
 *
 * The timer is cleared on abort so a closed server or a cancelled run leaves nothing pending.
 *
 * @param ms Delay in milliseconds; zero or less still yields to the event loop once.
 * @param signal Optional cancellation.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Keep the CPU busy for `ms` milliseconds of CPU time, doing arithmetic rather than sleeping.
 *
 * This blocks the event loop on purpose: a CPU-bound request in a single-threaded server holds
 * everything else up, and the process's CPU time (what container stats report) rises by `ms`.
 * Counting CPU time rather than wall time keeps the cost exact when the process is preempted.
 *
 * @param ms Busy time in milliseconds.
 * @param now Clock in milliseconds, normally {@linkcode processCpuMs}.
 * @returns A meaningless checksum, returned so the loop cannot be optimised away.
 */
export function burnCpu(ms: number, now: () => number): number {
  const end = now() + ms;
  let checksum = 0;
  while (now() < end) {
    for (let i = 0; i < 2_000; i++) checksum = (checksum * 31 + i) | 0;
  }
  return checksum;
}
