import assert from "node:assert/strict";
import { COMPARE_DEFAULTS, parseCompareArgs } from "../../../demo/compare/config.ts";

Deno.test("parseCompareArgs() takes repeated and comma-separated scenarios, durations and COMPARE_* variables", () => {
  const env = (name: string) => ({ COMPARE_SEED: "42", COMPARE_REPEAT: "3" })[name];
  const parsed = parseCompareArgs(
    [
      "--scenario",
      "one-slow,flaky",
      "--scenario",
      "uniform",
      "--strategies",
      "peak_ewma, round_robin",
      "--duration",
      "2s",
    ],
    env,
  );
  assert.deepEqual(parsed, {
    ok: true,
    value: {
      ...COMPARE_DEFAULTS,
      scenarios: ["one-slow", "flaky", "uniform"],
      strategies: ["peak_ewma", "round_robin"],
      durationMs: 2_000,
      seed: 42,
      repeat: 3,
      note: undefined,
    },
  });
  const none = parseCompareArgs(["--no-report", "--note", "shared VM"], () => undefined);
  assert.ok(none.ok && none.value !== "help");
  assert.equal(none.value.out, null);
  assert.equal(none.value.note, "shared VM");
  assert.equal(none.value.scenarios.length, 6);
});

Deno.test("parseCompareArgs() reports every bad value", () => {
  const bad = parseCompareArgs(["--duration", "10ms", "--repeat", "0", "--timeout", "soon"], () => undefined);
  assert.ok(!bad.ok);
  assert.equal(bad.errors.length, 3);
  assert.match(bad.errors.join("\n"), /--repeat: expected an integer in \[1, 99\], got "0"/);
  assert.match(bad.errors.join("\n"), /--timeout: expected a duration/);
  assert.match(bad.errors.join("\n"), /--duration: it must be at least 100ms/);
});

Deno.test("parseCompareArgs() writes reports to reports/local unless --out or --no-report says otherwise", () => {
  const out = (args: string[], env: Record<string, string> = {}) => {
    const parsed = parseCompareArgs(args, (name) => env[name]);
    assert.ok(parsed.ok && parsed.value !== "help");
    return parsed.value.out;
  };
  assert.equal(out([]), "reports/local");
  assert.equal(out(["--out", "reports"]), "reports", "the committed reports, on request");
  assert.equal(out([], { COMPARE_OUT: "/tmp/x" }), "/tmp/x");
  assert.equal(out(["--no-report", "--out", "reports"]), null);
});
