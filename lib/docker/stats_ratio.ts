/**
 * Turn one Docker stats document into the 0..1 ratios the `least_resources` strategy compares.
 *
 * The document has the same top-level shape on cgroup v1 and v2 hosts, but the details differ:
 * v2 has no `percpu_usage` (the seed project read only that, so its CPU was always 0 there) and
 * names the page cache `inactive_file` instead of v1's `total_inactive_file`. Both are handled,
 * the way the Docker CLI computes `docker stats`.
 *
 * @module
 */

/** CPU counters from a stats document (`cpu_stats` or `precpu_stats`), all in nanoseconds. */
export interface CpuStats {
  readonly cpu_usage?: { readonly total_usage?: number; readonly percpu_usage?: readonly number[] | null };
  /** Host CPU time across all CPUs; absent on the first frame's `precpu_stats`. */
  readonly system_cpu_usage?: number;
  /** Absent on engines before API 1.27; then the `percpu_usage` length stands in (v1 only). */
  readonly online_cpus?: number;
}

/** The parts of a `GET /containers/{id}/stats` document we read. */
export interface DockerStatsDocument {
  readonly cpu_stats?: CpuStats;
  readonly precpu_stats?: CpuStats;
  readonly memory_stats?: {
    readonly usage?: number;
    /** The cgroup limit; the engine reports host memory when the container has none. */
    readonly limit?: number;
    readonly stats?: Readonly<Record<string, number>>;
  };
}

// Limits at or above this are "unlimited" markers (cgroup v1 reports 2^63 rounded to pages).
const UNLIMITED_BYTES = 2 ** 60;

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/**
 * CPU used between `precpu_stats` and `cpu_stats`, as a share of the CPUs available to the container.
 *
 * Docker's CLI shows `cpu_delta / system_delta * online_cpus * 100` percent, i.e. 100% per busy
 * core. Here that number of busy cores is divided by the cores the container may use: `cpus` when
 * given (from its CPU quota or cpuset, see {@linkcode availableCpus}), else all online CPUs. So a
 * container limited to half a CPU that uses all of it scores 1, like a busy unlimited one that
 * saturates the host. `online_cpus` falls back to `percpu_usage.length` only when absent (old v1 engines).
 *
 * @param sample One stats document.
 * @param cpus CPUs the container may use, if limited below the host's.
 * @returns 0..1, or undefined when the document has no previous reading to diff against (the
 *   first frame of a stream) or the counters went backwards (container restarted).
 * @example
 * ```ts
 * cpuRatio(doc); // 0.5: one core busy of two
 * cpuRatio(doc, 1); // 1: the one core it may use is busy
 * ```
 */
export function cpuRatio(sample: DockerStatsDocument, cpus?: number): number | undefined {
  const now = sample.cpu_stats;
  const before = sample.precpu_stats;
  const used = now?.cpu_usage?.total_usage;
  const usedBefore = before?.cpu_usage?.total_usage;
  const system = now?.system_cpu_usage;
  const systemBefore = before?.system_cpu_usage;
  if (used === undefined || usedBefore === undefined || !system || !systemBefore) return undefined;
  const cpuDelta = used - usedBefore;
  const systemDelta = system - systemBefore;
  if (cpuDelta < 0 || systemDelta <= 0) return undefined;
  const online = now?.online_cpus || now?.cpu_usage?.percpu_usage?.length;
  if (!online) return undefined;
  const busyCores = (cpuDelta / systemDelta) * online;
  const available = cpus !== undefined && cpus > 0 ? Math.min(cpus, online) : online;
  return clamp01(busyCores / available);
}

/**
 * Memory in use net of reclaimable page cache, over the container's limit.
 *
 * Net usage is `usage` minus `total_inactive_file` (cgroup v1), else `inactive_file` (v2), else
 * `cache` (engines before 19.03), as `docker stats` does; file pages the kernel can drop at will
 * would otherwise make any container that reads files look full. Without a memory limit the engine
 * reports the host's memory as the limit (or a huge sentinel on some v1 setups): both are replaced
 * by `hostMemory`, so an unlimited container scores its share of the host.
 *
 * @param sample One stats document.
 * @param hostMemory Host memory in bytes (`MemTotal` from `GET /info`).
 * @returns 0..1, or undefined when the document carries no memory usage (container not running).
 */
export function memoryRatio(sample: DockerStatsDocument, hostMemory: number): number | undefined {
  const memory = sample.memory_stats;
  const usage = memory?.usage;
  if (usage === undefined || !(hostMemory > 0)) return undefined;
  const stats = memory?.stats ?? {};
  const cache = stats.total_inactive_file ?? stats.inactive_file ?? stats.cache ?? 0;
  const net = cache < usage ? usage - cache : usage;
  const limit = memory?.limit;
  const capacity = limit && limit < hostMemory && limit < UNLIMITED_BYTES ? limit : hostMemory;
  return clamp01(net / capacity);
}

/**
 * CPUs a container may use according to its host config: the smallest of `NanoCpus` (`--cpus`),
 * `CpuQuota / CpuPeriod` and the size of `CpusetCpus`, or undefined when none is set.
 *
 * @example
 * ```ts
 * availableCpus({ NanoCpus: 500_000_000 }); // 0.5
 * availableCpus({ CpusetCpus: "0-2,5" }); // 4
 * ```
 */
export function availableCpus(
  hostConfig: { NanoCpus?: number; CpuQuota?: number; CpuPeriod?: number; CpusetCpus?: string },
): number | undefined {
  const limits: number[] = [];
  if (hostConfig.NanoCpus && hostConfig.NanoCpus > 0) limits.push(hostConfig.NanoCpus / 1e9);
  if (hostConfig.CpuQuota && hostConfig.CpuQuota > 0) {
    // The kernel's default CFS period, used when only the quota is set.
    limits.push(hostConfig.CpuQuota / (hostConfig.CpuPeriod || 100_000));
  }
  const cpuset = cpusetSize(hostConfig.CpusetCpus ?? "");
  if (cpuset > 0) limits.push(cpuset);
  return limits.length ? Math.min(...limits) : undefined;
}

/** Number of CPUs in a cpuset list such as "0-2,5"; 0 for an empty or malformed list. */
function cpusetSize(list: string): number {
  let count = 0;
  for (const part of list.split(",")) {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!match) return 0;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) return 0;
    count += last - first + 1;
  }
  return count;
}
