/**
 * What the demo tools share: flags and the command-line prologue, seeded randomness, a semaphore,
 * event-loop lag, stopping on a signal, the proxy config they start and a self-signed
 * certificate for it.
 *
 * @module
 */

export { burnCpu, processCpuMs, sleep } from "./async.ts";
export { runCli } from "./cli.ts";
export type { Cli } from "./cli.ts";
export { choiceFlag, durationFlag, numberFlag, processEnv, readFlags } from "./flags.ts";
export type { FlagSpec, Parsed } from "./flags.ts";
export { json } from "./http.ts";
export { startLagMonitor } from "./lag.ts";
export type { LagStats } from "./lag.ts";
export { buildProxyConfig, proxyConfigYaml } from "./proxy_config.ts";
export type {
  ProxyBackendInput,
  ProxyConfigInput,
  ProxyRouteInput,
  ProxyServiceInput,
  ProxyTlsInput,
} from "./proxy_config.ts";
export { randomSeed, seededRandom } from "./random.ts";
export { createSemaphore } from "./semaphore.ts";
export type { Semaphore } from "./semaphore.ts";
export { createSelfSignedCert } from "./self_signed_cert.ts";
export type { SelfSignedCert, SelfSignedCertOptions } from "./self_signed_cert.ts";
export { stopSignal } from "./signals.ts";
