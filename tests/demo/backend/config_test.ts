import { deepEqual, equal, ok } from "node:assert/strict";
import { BACKEND_DEFAULTS, parseBackendArgs } from "../../../demo/backend/config.ts";

const noEnv = () => undefined;

Deno.test("parseBackendArgs() reads every flag", () => {
  const parsed = parseBackendArgs([
    "--port=9000",
    "--host=127.0.0.1",
    "--name=a",
    "--latency=1.5s",
    "--jitter=250ms",
    "--distribution=lognormal",
    "--cpu=2ms",
    "--capacity=8",
    "--error-rate=0.01",
    "--tail-ratio=0.02",
    "--tail-latency=800ms",
    "--seed=42",
  ], noEnv);
  ok(parsed.ok && parsed.value !== "help");
  deepEqual(parsed.value, {
    port: 9000,
    host: "127.0.0.1",
    name: "a",
    latencyMs: 1_500,
    jitterMs: 250,
    distribution: "lognormal",
    cpuMs: 2,
    capacity: 8,
    errorRate: 0.01,
    tailRatio: 0.02,
    tailMs: 800,
    seed: 42,
  });
});

Deno.test("parseBackendArgs() falls back to BACKEND_* variables, then to the defaults", () => {
  const env: Record<string, string> = {
    BACKEND_LATENCY: "1m",
    BACKEND_ERROR_RATE: "0.5",
    BACKEND_PORT: "7000",
  };
  const parsed = parseBackendArgs(["--port", "7001"], (name) => env[name]);
  ok(parsed.ok && parsed.value !== "help");
  equal(parsed.value.port, 7001);
  equal(parsed.value.latencyMs, 60_000);
  equal(parsed.value.errorRate, 0.5);
  equal(parsed.value.capacity, BACKEND_DEFAULTS.capacity);
  equal(parsed.value.seed, undefined);
});

Deno.test("parseBackendArgs() reports every bad value and unknown flags", () => {
  const parsed = parseBackendArgs(["--port", "70000", "--error-rate", "2", "--jitter", "5"], noEnv);
  ok(!parsed.ok);
  equal(parsed.errors.length, 3, parsed.errors.join("\n"));
  const unknown = parseBackendArgs(["--latencyy", "5ms"], noEnv);
  ok(!unknown.ok && /latencyy/.test(unknown.errors[0]));
});

Deno.test("parseBackendArgs() accepts capacity 'unlimited' and --help", () => {
  const parsed = parseBackendArgs(["--capacity", "unlimited"], noEnv);
  ok(parsed.ok && parsed.value !== "help" && parsed.value.capacity === Infinity);
  deepEqual(parseBackendArgs(["--help"], noEnv), { ok: true, value: "help" });
});
