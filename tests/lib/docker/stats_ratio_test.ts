import assert from "node:assert/strict";
import {
  availableCpus,
  cpuRatio,
  type DockerStatsDocument,
  memoryRatio,
} from "../../../lib/docker/stats_ratio.ts";

type Fixture = Record<string, DockerStatsDocument>;
const load = async (name: string): Promise<Fixture> =>
  JSON.parse(await Deno.readTextFile(new URL(`./fixtures/${name}`, import.meta.url)));
const v1 = await load("docker_stats_v1.json");
const v2 = await load("docker_stats_v2.json");
// Hosts the fixtures were recorded on / written for.
const V1_HOST_MEMORY = 25_276_510_208;
const V2_HOST_MEMORY = 8 * 1024 ** 3;
const MiB = 1024 ** 2;

const close = (actual: number | undefined, expected: number) => {
  assert.ok(actual !== undefined, `expected ${expected}, got undefined`);
  assert.ok(Math.abs(actual - expected) < 1e-9, `expected ${expected}, got ${actual}`);
};

Deno.test("cpuRatio() on cgroup v1 is busy cores over online CPUs", () => {
  // 925 649 408 ns of container CPU over 1 950 000 000 ns of host CPU on 2 CPUs: 0.95 cores of 2.
  close(cpuRatio(v1.busy_memory_limit_tmpfs), (925_649_408 / 1_950_000_000) * 2 / 2);
  close(cpuRatio(v1.idle_unlimited), 0);
});

Deno.test("cpuRatio() divides by the CPU quota when one is given", () => {
  const busy = (486_462_695 / 1_970_000_000) * 2;
  close(cpuRatio(v1.busy_half_cpu_quota), busy / 2);
  close(cpuRatio(v1.busy_half_cpu_quota, 0.5), busy / 0.5);
  // A quota above the host's CPUs cannot make the container look idler than the host allows.
  close(cpuRatio(v1.busy_half_cpu_quota, 8), busy / 2);
});

Deno.test("cpuRatio() on cgroup v2 uses online_cpus, as there is no percpu_usage", () => {
  assert.equal(v2.busy_memory_limit.cpu_stats?.cpu_usage?.percpu_usage, undefined);
  close(cpuRatio(v2.busy_memory_limit), (1_500_000_000 / 4_000_000_000) * 4 / 4);
  close(cpuRatio(v2.busy_memory_limit, 2), (1_500_000_000 / 4_000_000_000) * 4 / 2);
  close(cpuRatio(v2.idle_unlimited), 2_000_000 / 4_000_000_000);
});

Deno.test("cpuRatio() falls back to the percpu_usage length only when online_cpus is absent", () => {
  const doc = structuredClone(v1.busy_memory_limit_tmpfs) as { cpu_stats: { online_cpus?: number } };
  delete doc.cpu_stats.online_cpus;
  close(cpuRatio(doc), cpuRatio(v1.busy_memory_limit_tmpfs)!);
  const v2doc = structuredClone(v2.busy_memory_limit) as { cpu_stats: { online_cpus?: number } };
  delete v2doc.cpu_stats.online_cpus;
  assert.equal(cpuRatio(v2doc), undefined);
});

Deno.test("cpuRatio() is undefined without a previous reading or after a counter reset", () => {
  assert.equal(cpuRatio(v1.first_stream_frame), undefined);
  assert.equal(cpuRatio(v2.first_stream_frame), undefined);
  assert.equal(cpuRatio(v1.stopped), undefined);
  const reset = structuredClone(v2.busy_memory_limit) as {
    cpu_stats: { cpu_usage: { total_usage: number } };
  };
  reset.cpu_stats.cpu_usage.total_usage = 1;
  assert.equal(cpuRatio(reset), undefined);
});

Deno.test("memoryRatio() on cgroup v1 subtracts total_inactive_file, so tmpfs data still counts", () => {
  // usage 35 004 416, total_inactive_file 655 360, limit 128 MiB. The 32 MiB on tmpfs sit in
  // total_cache too: subtracting cache would report ~0.3% for a container a quarter full.
  close(memoryRatio(v1.busy_memory_limit_tmpfs, V1_HOST_MEMORY), (35_004_416 - 655_360) / (128 * MiB));
  close(memoryRatio(v1.idle_unlimited, V1_HOST_MEMORY), 569_344 / V1_HOST_MEMORY);
});

Deno.test("memoryRatio() on cgroup v2 subtracts inactive_file", () => {
  close(memoryRatio(v2.busy_memory_limit, V2_HOST_MEMORY), (300 - 100) / 512);
  close(memoryRatio(v2.idle_unlimited, V2_HOST_MEMORY), (50 - 10) * MiB / V2_HOST_MEMORY);
});

Deno.test("memoryRatio() uses host memory when the limit is absent, a sentinel or above the host", () => {
  for (const limit of [undefined, 0, 9_223_372_036_854_771_712, 2 * V2_HOST_MEMORY]) {
    const doc = structuredClone(v2.busy_memory_limit) as { memory_stats: { limit?: number } };
    doc.memory_stats.limit = limit;
    close(memoryRatio(doc, V2_HOST_MEMORY), 200 * MiB / V2_HOST_MEMORY);
  }
});

Deno.test("memoryRatio() falls back to cache on engines without inactive_file counters", () => {
  const doc = { memory_stats: { usage: 100 * MiB, limit: 400 * MiB, stats: { cache: 20 * MiB } } };
  close(memoryRatio(doc, V2_HOST_MEMORY), 80 / 400);
});

Deno.test("memoryRatio() is undefined for a stopped container", () => {
  assert.equal(memoryRatio(v1.stopped, V1_HOST_MEMORY), undefined);
});

Deno.test("availableCpus() takes the tightest of --cpus, quota/period and cpuset", () => {
  assert.equal(availableCpus({}), undefined);
  assert.equal(availableCpus({ NanoCpus: 0, CpuQuota: 0, CpusetCpus: "" }), undefined);
  assert.equal(availableCpus({ NanoCpus: 500_000_000 }), 0.5);
  assert.equal(availableCpus({ CpuQuota: 150_000, CpuPeriod: 100_000 }), 1.5);
  assert.equal(availableCpus({ CpuQuota: 50_000 }), 0.5);
  assert.equal(availableCpus({ CpusetCpus: "0-2,5" }), 4);
  assert.equal(availableCpus({ CpusetCpus: "1", NanoCpus: 2_000_000_000 }), 1);
  assert.equal(availableCpus({ CpusetCpus: "3-1" }), undefined);
});
