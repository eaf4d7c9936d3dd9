/**
 * Reading `config.yml`: the schema, defaults, and validation whose errors name file, line and field
 * path. Durations and sizes are parsed here too.
 *
 * @module
 */

export { loadConfig, parseConfig } from "./config.ts";
export type {
  AccessLogConfig,
  BackendConfig,
  BackendTlsConfig,
  Config,
  ConfigResult,
  DockerDiscoveryConfig,
  FailureCondition,
  HealthCheckConfig,
  HedgeDelay,
  HedgingConfig,
  ListenAddress,
  PassiveConfig,
  PrequalConfig,
  RouteConfig,
  RouteMatch,
  ServiceConfig,
  ServiceSettings,
  SplitTarget,
  StickyConfig,
  SwarmDnsTarget,
  TlsCertFiles,
  TlsConfig,
  TraceContextConfig,
} from "./types.ts";
export { DEFAULT_SERVICE } from "./services.ts";
export { needsDocker } from "./docker.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { MAX_WORKERS, workerCount } from "./workers.ts";
export type { WorkersSetting } from "./workers.ts";
