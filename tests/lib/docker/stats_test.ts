import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { type ContainerScope, docker, dockerTest, waitFor } from "../../_util/docker.ts";
import { connectDocker } from "../../../lib/docker/api.ts";
import { createDockerStats, type DockerStats, type DockerStatsOptions } from "../../../lib/docker/stats.ts";
import { registerResourceGauges } from "../../../lib/docker/stats_metrics.ts";
import type { ResourceSample } from "../../../algorithms/types.ts";
import { memoryLogger } from "../../../lib/base/log.ts";

const BURN = ["sh", "-c", "while :; do :; done"];
const IDLE = ["sleep", "3600"];

/** A collector on the real engine, closed with the scope. */
function statsFor(scope: ContainerScope, options: Partial<DockerStatsOptions> = {}): DockerStats {
  const stats = createDockerStats({ docker: connectDocker(), now: () => performance.now(), ...options });
  scope.defer(() => stats.close());
  return stats;
}

/** Average of `count` fresh samples (one per engine frame, about a second apart). */
async function averageOf(stats: DockerStats, backend: string, count: number): Promise<ResourceSample> {
  let last = -1;
  const cpu: number[] = [];
  const memory: number[] = [];
  while (cpu.length < count) {
    const sample = await waitFor(`a new sample for ${backend}`, () => {
      const s = stats.get(backend);
      return s && s.at !== last ? s : undefined;
    }, 5_000);
    last = sample.at;
    cpu.push(sample.cpu);
    memory.push(sample.memory);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { cpu: mean(cpu), memory: mean(memory), at: last };
}

dockerTest(
  "createDockerStats() scores a CPU-burning container busier than an idle one",
  "stats-cpu",
  async (scope) => {
    const stats = statsFor(scope);
    const busy = await scope.run("busy", [], BURN);
    const capped = await scope.run("capped", ["--cpus", "0.5"], BURN);
    const idle = await scope.run("idle", [], IDLE);
    const started = performance.now();
    stats.track("busy", busy);
    stats.track("capped", capped);
    stats.track("idle", idle);
    await waitFor(
      "samples for all three",
      () => stats.tracked().every((b) => stats.get(b)) || undefined,
      10_000,
    );
    console.log(`first samples for 3 containers after ${Math.round(performance.now() - started)} ms`);

    const [b, c, i] = await Promise.all(["busy", "capped", "idle"].map((n) => averageOf(stats, n, 3)));
    console.log(
      `cpu ratio over 3 frames: busy ${b.cpu.toFixed(3)}, capped ${c.cpu.toFixed(3)}, idle ${
        i.cpu.toFixed(3)
      }`,
    );
    // The machine may be shared with other work, so assert the ordering, not a level: the busy
    // loop gets one core of two (0.5) when alone, less under contention, and idle stays near 0.
    assert.ok(b.cpu > i.cpu + 0.05, `busy (${b.cpu}) should score clearly above idle (${i.cpu})`);
    assert.ok(i.cpu < 0.05, `idle container should be near 0, got ${i.cpu}`);
    // Capped at half a CPU, its share of the 2-CPU host cannot exceed 0.25; measured against its
    // own allowance it scores well above that (near 1 when the host is otherwise quiet).
    assert.ok(c.cpu > 0.35, `capped container should be measured against its quota, got ${c.cpu}`);

    const registry = new Registry();
    registerResourceGauges(registry, stats);
    const text = await registry.metrics();
    assert.match(text, /lb_backend_cpu_ratio\{service="default",backend="busy"\} 0\.\d+/);
    assert.match(text, /lb_backend_memory_ratio\{service="default",backend="idle"\} \d/);
  },
);

dockerTest("createDockerStats() memory ratio follows allocation and release", "stats-mem", async (scope) => {
  const stats = statsFor(scope);
  // Data on a tmpfs is charged to the container's memory cgroup as shmem, which the kernel cannot
  // drop like page cache: a deterministic way to hold 40 MiB against a 64 MiB limit.
  const name = await scope.run("mem", ["--memory", "64m", "--tmpfs", "/fill:size=48m"], IDLE);
  stats.track("mem", name);
  const before = await averageOf(stats, "mem", 1);
  await docker("exec", name, "dd", "if=/dev/zero", "of=/fill/data", "bs=1M", "count=40");
  const filledAt = performance.now();
  const filled = await waitFor("memory ratio to rise", () => {
    const s = stats.get("mem");
    return s && s.memory > 0.55 ? s : undefined;
  }, 5_000);
  const riseMs = performance.now() - filledAt;
  await docker("exec", name, "rm", "/fill/data");
  const released = await waitFor("memory ratio to fall", () => {
    const s = stats.get("mem");
    return s && s.memory < 0.2 ? s : undefined;
  }, 5_000);
  console.log(
    `memory ratio: before ${before.memory.toFixed(3)}, with 40 MiB of 64 MiB ${filled.memory.toFixed(3)} ` +
      `(seen after ${Math.round(riseMs)} ms), released ${released.memory.toFixed(3)}`,
  );
  assert.ok(before.memory < 0.1, `a sleeping busybox should use little of 64 MiB, got ${before.memory}`);
  assert.ok(filled.memory < 0.8, `40 MiB of 64 MiB should be about 0.63, got ${filled.memory}`);
});

dockerTest(
  "createDockerStats() ages out samples and forgets untracked backends",
  "stats-age",
  async (scope) => {
    let skew = 0;
    const stats = statsFor(scope, { now: () => performance.now() + skew, maxAgeMs: 3_000 });
    stats.track("idle", await scope.run("idle", [], IDLE));
    const sample = await waitFor("a sample", () => stats.get("idle"), 10_000);
    skew = 3_000 + (performance.now() - sample.at) + 1_000; // as if the stream had stalled 4 s
    assert.equal(stats.get("idle"), undefined);
    skew = 0;
    await waitFor("the sample to be fresh again", () => stats.get("idle"), 5_000);
    stats.untrack("idle");
    assert.equal(stats.get("idle"), undefined);
    assert.deepEqual(stats.tracked(), []);
  },
);

dockerTest(
  "createDockerStats() logs once while a container is missing and follows it once it runs",
  "stats-late",
  async (scope) => {
    const log = memoryLogger();
    const lines = log.lines;
    const stats = statsFor(scope, {
      log,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    const name = scope.name("late");
    stats.track("late", name);
    // Several retries happen in this second; only the first one logs.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0],
      new RegExp(`^warn docker stats: cannot follow container.*"backend":"late","container":"${name}"`),
    );
    await scope.run("late", [], IDLE);
    await waitFor("a sample once the container runs", () => stats.get("late"), 10_000);
    assert.match(lines.at(-1)!, /^info docker stats: following container again/);
  },
);
