import assert from "node:assert/strict";
import { formatSize, parseSize } from "../../../lib/config/size.ts";
import { configOf as parsed, errorsOf as refused } from "../../_util/config.ts";

const OPTIONS = { env: () => undefined };
const configOf = (text: string) => parsed(text, OPTIONS);
const errorsOf = (text: string) => refused(text, OPTIONS);

const B = "backends:\n  - url: http://127.0.0.1:9001\n";

Deno.test("parseSize() reads integers and binary units; formatSize() prints them back", () => {
  assert.equal(parseSize(65536), 65536);
  assert.equal(parseSize("64KiB"), 65536);
  assert.equal(parseSize("1MiB"), 1048576);
  assert.equal(parseSize("1.5KiB"), 1536);
  assert.equal(parseSize("10"), 10);
  for (const bad of ["64KB", "-1", "1e3", "", "KiB", 1.5, -3, true, null, "0.5B"]) {
    assert.equal(parseSize(bad), undefined, JSON.stringify(bad));
  }
  assert.equal(formatSize(65536), "64KiB");
  assert.equal(formatSize(1000), "1000B");
});

Deno.test("parseConfig() applies the resilience defaults", () => {
  const c = configOf(B);
  assert.deepEqual(c.services[0].retries, {
    attempts: 2,
    budget: 0.2,
    minPerSecond: 10,
    on: ["connect_failure", "reset", "502", "503", "504"],
    maxBodyBytes: 65536,
  });
  assert.deepEqual(c.services[0].passive, {
    consecutiveFailures: 5,
    baseEjectionMs: 30000,
    maxEjectionMs: 300000,
    maxEjectedPercent: 50,
    on: ["connect_failure", "reset", "timeout", "5xx"],
  });
  assert.equal(c.services[0].slowStartMs, 30000);
  assert.deepEqual(c.services[0].queue, { max: 1000, timeoutMs: 5000 });
  assert.equal(c.services[0].backends[0].maxConnections, undefined);
});

Deno.test("parseConfig() reads every resilience key", () => {
  const c = configOf(`
retries: {attempts: 3, budget: 0.5, min_per_second: 0, on: [timeout, 5xx], max_body: 1MiB}
passive: {consecutive_failures: 2, base_ejection: 1s, max_ejection: 10s, max_ejected_percent: 100, on: [reset]}
slow_start: 0
queue: {max: 0, timeout: 250ms}
backends:
  - {url: "http://127.0.0.1:9001", max_connections: 64}
`);
  assert.deepEqual(c.services[0].retries, {
    attempts: 3,
    budget: 0.5,
    minPerSecond: 0,
    on: ["timeout", "5xx"],
    maxBodyBytes: 1 << 20,
  });
  assert.deepEqual(c.services[0].passive.on, ["reset"]);
  assert.equal(c.services[0].passive.baseEjectionMs, 1000);
  assert.equal(c.services[0].slowStartMs, 0);
  assert.deepEqual(c.services[0].queue, { max: 0, timeoutMs: 250 });
  assert.equal(c.services[0].backends[0].maxConnections, 64);
  assert.equal(configOf(`retries: {max_body: 4096}\n${B}`).services[0].retries.maxBodyBytes, 4096);
  assert.deepEqual(configOf(`retries: {on: [502, "503", 502]}\n${B}`).services[0].retries.on, ["502", "503"]);
});

const INVALID: [string, string, RegExp][] = [
  ["retries not a map", "retries: 3\n", /^config\.yml:1: retries: must be a mapping, got 3$/],
  [
    "negative attempts",
    "retries: {attempts: -1}\n",
    /retries\.attempts: must be an integer \(0\.\.10\), got -1/,
  ],
  ["huge attempts", "retries: {attempts: 1e9}\n", /retries\.attempts: must be an integer/],
  [
    "budget text",
    "retries: {budget: lots}\n",
    /retries\.budget: must be a number between 0 and 10, got "lots"/,
  ],
  ["negative budget", "retries: {budget: -0.1}\n", /retries\.budget: must be a number between 0 and 10/],
  [
    "unknown condition",
    "retries: {on: [connect_failure, 404]}\n",
    /retries\.on\[1\]: must be one of .* got 404/,
  ],
  ["condition typo", "retries: {on: [conect_failure]}\n", /retries\.on\[0\]: must be one of/],
  ["on not a list", "retries: {on: 5xx}\n", /retries\.on: must be a list/],
  [
    "decimal size unit",
    "retries: {max_body: 64KB}\n",
    /retries\.max_body: must be a size in bytes .* got "64KB"/,
  ],
  ["negative size", "retries: {max_body: -1}\n", /retries\.max_body: must be a size/],
  ["huge size", "retries: {max_body: 1GiB}\n", /retries\.max_body: must be a size .*at most 67108864/],
  [
    "unknown retries key",
    "retries: {attempt: 2}\n",
    /retries\.attempt: unknown key \(did you mean `attempts`\?\)/,
  ],
  ["negative ejection", "passive: {base_ejection: -30s}\n", /passive\.base_ejection: must be a duration/],
  [
    "max below base",
    "passive: {base_ejection: 1m, max_ejection: 30s}\n",
    /passive\.max_ejection: must be at least passive\.base_ejection/,
  ],
  [
    "percent over 100",
    "passive: {max_ejected_percent: 150}\n",
    /passive\.max_ejected_percent: must be an integer \(0\.\.100\)/,
  ],
  ["failures text", "passive: {consecutive_failures: five}\n", /passive\.consecutive_failures: .*got "five"/],
  ["slow start unitless", "slow_start: 30\n", /slow_start: must be a duration like 250ms/],
  ["slow start huge", "slow_start: 100h\n", /slow_start: must be between 0ms and 24h/],
  ["queue negative", "queue: {max: -1}\n", /queue\.max: must be an integer \(0\.\.1000000\), got -1/],
  ["queue zero timeout", "queue: {timeout: 0}\n", /queue\.timeout: must be between 1ms and 24h/],
  [
    "zero max_connections",
    "backends:\n  - {url: http://x, max_connections: 0}\n",
    /^config\.yml:2: backends\[0\]\.max_connections: must be a positive integer \(1\.\.1000000\), got 0$/,
  ],
  [
    "fractional max_connections",
    "backends:\n  - {url: http://x, max_connections: 2.5}\n",
    /backends\[0\]\.max_connections: must be a positive integer/,
  ],
];

for (const [name, text, expected] of INVALID) {
  Deno.test(`parseConfig() rejects ${name} with the field path`, () => {
    const errors = errorsOf(text.includes("backends:") ? text : text + B);
    assert.ok(
      errors.some((e) => expected.test(e)),
      `no error matched ${expected}; got:\n${errors.join("\n")}`,
    );
    for (const e of errors) assert.ok(!e.includes("\n"), `one line per error: ${JSON.stringify(e)}`);
  });
}
