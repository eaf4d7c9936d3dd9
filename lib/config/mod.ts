/**
 * Reading `config.yml`: the schema, defaults, and validation whose errors name file, line and field
 * path. Durations and sizes are parsed here too.
 *
 * @module
 */

export { loadConfig, parseConfig } from "./config.ts";
export type {
  BackendConfig,
  Config,
  ConfigResult,
  DockerDiscoveryConfig,
  FailureCondition,
  HealthCheckConfig,
  ListenAddress,
  PassiveConfig,
} from "./types.ts";
export { needsDocker } from "./docker.ts";
export { formatDuration, parseDuration } from "./duration.ts";
