/**
 * Prometheus gauges for container resource usage: `lb_backend_cpu_ratio{backend}` and
 * `lb_backend_memory_ratio{backend}`, both 0..1 as the `least_resources` strategy sees them.
 *
 * Values are read from the collector at scrape time rather than pushed per sample, so a backend
 * whose samples went stale (or that was untracked) disappears from the scrape instead of showing
 * its last reading forever.
 *
 * @module
 */

import { Gauge, type Registry } from "prom-client";
import type { DockerStats } from "./stats.ts";

/**
 * Register the two gauges on `registry`, fed from `stats` on every scrape.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * registerResourceGauges(registry, createDockerStats({ docker, now }));
 * await registry.metrics(); // lb_backend_cpu_ratio{backend="api-1"} 0.42 ...
 * ```
 */
export function registerResourceGauges(
  registry: Registry,
  stats: Pick<DockerStats, "get" | "tracked">,
): void {
  const gauge = (name: string, help: string, field: "cpu" | "memory") =>
    new Gauge({
      name,
      help,
      labelNames: ["backend"],
      registers: [registry],
      // Runs before each scrape of this gauge.
      collect() {
        this.reset();
        for (const backend of stats.tracked()) {
          const sample = stats.get(backend);
          if (sample) this.set({ backend }, sample[field]);
        }
      },
    });
  gauge(
    "lb_backend_cpu_ratio",
    "Container CPU use over the CPUs it may use (quota, cpuset or all online CPUs), 0..1.",
    "cpu",
  );
  gauge(
    "lb_backend_memory_ratio",
    "Container memory in use net of page cache over its limit (host memory when unlimited), 0..1.",
    "memory",
  );
}
