/**
 * Prometheus gauges for container resource usage: `lb_backend_cpu_ratio{service,backend}` and
 * `lb_backend_memory_ratio{service,backend}`, both 0..1 as the `least_resources` strategy sees
 * them. Backends are tracked under `service/backend` keys (names cannot hold a `/`).
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
 * await registry.metrics(); // lb_backend_cpu_ratio{service="web",backend="api-1"} 0.42 ...
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
      labelNames: ["service", "backend"],
      registers: [registry],
      // Runs before each scrape of this gauge.
      collect() {
        this.reset();
        for (const key of stats.tracked()) {
          const sample = stats.get(key);
          const slash = key.indexOf("/");
          const labels = slash === -1
            ? { service: "default", backend: key }
            : { service: key.slice(0, slash), backend: key.slice(slash + 1) };
          if (sample) this.set(labels, sample[field]);
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
