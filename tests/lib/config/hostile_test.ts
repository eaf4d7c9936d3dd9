/**
 * Hostile config files: each must give one-line errors naming the field (or the file, when the
 * file itself is the problem), never a crash, a stack trace or a hang. Each case is parsed in a
 * worker with a time bound, so a hang fails the test instead of stalling it.
 */
import assert from "node:assert/strict";
import type { ConfigResult } from "../../../lib/config/config.ts";
import { billionLaughs } from "../../_util/hostile.ts";

const B = "backends:\n  - url: http://127.0.0.1:9001\n";
const TIME_BOUND_MS = 2000;

// [name, text, an error must match]
const CASES: [string, string, RegExp][] = [
  ["empty file", "", /file is empty/],
  ["only a comment", "# nothing\n", /file is empty/],
  ["only whitespace", "   \n\n\t\n", /file is empty|YAML syntax error/],
  ["binary garbage", "\x00\x01\x02\xff\xfe", /not a text file/],
  ["control characters", "backends:\x07\x1b[31m\n", /YAML syntax error|backends/],
  ["huge file", `${B}#${"x".repeat(2 << 20)}\n`, /larger than 1 MiB/],
  ["billion laughs", billionLaughs(), /backends\[0\]: must be a mapping/],
  ["alias as a backend list", 'x: &x {url: "http://a:1"}\nbackends: [*x, *x]\n', /duplicate backend name/],
  ["self-referencing alias", "a: &a [*a]\nbackends: *a\n", /YAML syntax error|backends|must be/],
  ["undefined alias", "backends: *nope\n", /YAML syntax error|backends: must be a list, got nothing/],
  ["deep flow nesting", `backends: ${"[".repeat(3000)}${"]".repeat(3000)}\n`, /nested too deeply|backends/],
  [
    "deep block nesting",
    `health_check:\n${
      Array.from({ length: 200 }, (_, i) => `${"  ".repeat(i + 1)}k${i}:`).join("\n")
    } 1\n${B}`,
    /health_check\.k0: unknown key/,
  ],
  ["top-level list", "- 1\n- 2\n", /must be a mapping, got a list/],
  ["top-level scalar", "42\n", /must be a mapping, got 42/],
  [
    "weight as a list",
    `${B}    weight: [1, 2]\n`,
    /backends\[0\]\.weight: must be a single value, got a list/,
  ],
  [
    "weight as a map",
    `${B}    weight: {a: 1}\n`,
    /backends\[0\]\.weight: must be a single value, got a mapping/,
  ],
  ["url as a number", "backends:\n  - url: 8080\n", /backends\[0\]\.url: must be a string, got 8080/],
  ["url as null", "backends:\n  - url:\n", /backends\[0\]\.url: must be a string, got null/],
  [
    "huge integer",
    `${B}    weight: 99999999999999999999999999\n`,
    /backends\[0\]\.weight: must be a positive integer/,
  ],
  [
    "infinite number",
    `retries: {budget: .inf}\n${B}`,
    /retries\.budget: must be a number between 0 and 10, got null|retries\.budget: must be a number/,
  ],
  ["NaN", `retries: {budget: .nan}\n${B}`, /retries\.budget: must be a number/],
  ["negative duration", `health_check: {interval: -5s}\n${B}`, /health_check\.interval: must be a duration/],
  [
    "negative zero duration",
    `passive: {base_ejection: -0s}\n${B}`,
    /passive\.base_ejection: must be a duration/,
  ],
  [
    "huge duration",
    `shutdown_timeout: 99999999999999h\n${B}`,
    /shutdown_timeout: must be between 0ms and 24h/,
  ],
  ["duration overflow", `slow_start: ${"9".repeat(400)}s\n${B}`, /slow_start: must be (a duration|between)/],
  [
    "huge max_connections",
    `backends:\n  - {url: http://x, max_connections: 1e12}\n`,
    /backends\[0\]\.max_connections: must be a positive integer/,
  ],
  [
    "percent negative",
    `passive: {max_ejected_percent: -1}\n${B}`,
    /passive\.max_ejected_percent: must be an integer/,
  ],
  ["unknown top key", `retires: {attempts: 1}\n${B}`, /retires: unknown key \(did you mean `retries`\?\)/],
  ["unknown nested key", `passive: {consecutive_5xx: 3}\n${B}`, /passive\.consecutive_5xx: unknown key/],
  ["non-string key", `{1: 2}: 3\n${B}`, /unknown key|YAML syntax error/],
  ["tab indentation", "backends:\n\t- url: http://x\n", /YAML syntax error/],
  ["many backends", `backends:\n${"  - url: http://x\n".repeat(10_001)}`, /at most 10000 backends/],
  [
    "very long string",
    `admin: {token: ${"t".repeat(500_000)}}\nstrategy: ${"s".repeat(1000)}\n${B}`,
    /strategy: unknown strategy/,
  ],
  [
    "env var bomb",
    `admin: {token: "${"${X}".repeat(10_000)}"}\n${B}`,
    /admin\.token: environment variable X is not set/,
  ],
  ["multiple documents", `${B}---\n${B}`, /YAML syntax error|Source contains multiple documents/],
  ["tagged value", `backends: !!binary aGVsbG8=\n`, /backends: must be a list/],
  ["custom tag", `backends: !evil [1]\n`, /YAML syntax error|backends|Unresolved tag/],
  ["duplicate keys", `${B}${B}`, /backends: duplicate key/],
];

Deno.test("parseConfig() answers every hostile config with one-line errors within a time bound", async () => {
  const worker = new Worker(new URL("../../_util/parse_worker.ts", import.meta.url), { type: "module" });
  const replies = new Map<number, (r: { result: ConfigResult | { crashed: string }; ms: number }) => void>();
  worker.onmessage = (e) => replies.get(e.data.id)?.(e.data);
  try {
    assert.ok(CASES.length >= 30);
    const problems: string[] = [];
    // The first message waits for the worker to load; only parse time is bounded.
    await new Promise((r) => {
      replies.set(-1, r);
      worker.postMessage({ id: -1, text: "" });
    });
    for (const [id, [name, text, expected]] of CASES.entries()) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answered = new Promise<{ result: ConfigResult | { crashed: string }; ms: number }>((r) =>
        replies.set(id, r)
      );
      worker.postMessage({ id, text });
      const reply = await Promise.race([
        answered,
        new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), TIME_BOUND_MS)),
      ]);
      clearTimeout(timer);
      assert.ok(reply, `${name}: no answer within ${TIME_BOUND_MS}ms`);
      const { result } = reply;
      assert.ok(!("crashed" in result), `${name}: threw ${"crashed" in result ? result.crashed : ""}`);
      assert.equal(result.ok, false, `${name}: accepted`);
      const errors = result.ok ? [] : result.errors;
      if (!errors.some((e) => expected.test(e))) {
        problems.push(`${name}: no error matched ${expected}; got: ${errors.join(" | ").slice(0, 500)}`);
      }
      for (const e of errors) {
        if (e.includes("\n")) problems.push(`${name}: not one line: ${JSON.stringify(e.slice(0, 200))}`);
        if (e.length >= 400) {
          problems.push(`${name}: error too long (${e.length} chars): ${e.slice(0, 200)}...`);
        }
        if (/\bat \S+:\d+:\d+/.test(e)) problems.push(`${name}: stack trace in ${e.slice(0, 200)}`);
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    worker.terminate();
  }
});
