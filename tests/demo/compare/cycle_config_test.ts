import assert from "node:assert/strict";
import { parseCycleArgs } from "../../../demo/compare/cycle_config.ts";

const noEnv = () => undefined;

Deno.test("parseCycleArgs() reads the admin URL from a positional or --live, with the documented defaults", () => {
  const expected = {
    adminUrl: "http://localhost:8081",
    every: 60_000,
    rounds: Infinity,
    strategies: undefined,
    service: undefined,
    token: undefined,
    restore: true,
  };
  assert.deepEqual(parseCycleArgs(["http://localhost:8081"], noEnv), { ok: true, value: expected });
  assert.deepEqual(parseCycleArgs(["--live", "http://localhost:8081"], noEnv), { ok: true, value: expected });
});

Deno.test("parseCycleArgs() reads every flag, and --token wins over LB_ADMIN_TOKEN", () => {
  const env = (name: string) => (name === "LB_ADMIN_TOKEN" ? "from-env" : undefined);
  const args = [
    "u",
    "--every",
    "2s",
    "--rounds",
    "3",
    "--strategies",
    "a, b,,c",
    "--service",
    "api",
    "--no-restore",
  ];
  assert.deepEqual(parseCycleArgs(args, env), {
    ok: true,
    value: {
      adminUrl: "u",
      every: 2_000,
      rounds: 3,
      strategies: ["a", "b", "c"],
      service: "api",
      token: "from-env",
      restore: false,
    },
  });
  const flag = parseCycleArgs(["u", "--token", "from-flag"], env);
  assert.ok(flag.ok && flag.value !== "help" && flag.value.token === "from-flag");
});

Deno.test("parseCycleArgs() returns help, and one error for a missing URL, a bad value or an unknown flag", () => {
  assert.deepEqual(parseCycleArgs(["--help"], noEnv), { ok: true, value: "help" });
  assert.deepEqual(parseCycleArgs([], noEnv), {
    ok: false,
    errors: ["Cannot cycle strategies: expected ADMIN_URL or --live ADMIN_URL"],
  });
  assert.deepEqual(parseCycleArgs(["u", "--every", "soon"], noEnv), {
    ok: false,
    errors: ["invalid --every soon or --rounds undefined"],
  });
  assert.deepEqual(parseCycleArgs(["u", "--rounds", "0"], noEnv), {
    ok: false,
    errors: ["invalid --every 60s or --rounds 0"],
  });
  assert.deepEqual(parseCycleArgs(["u", "--service", "Web Site"], noEnv), {
    ok: false,
    errors: ['Cannot use --service: expected a service name ([a-z0-9_.-]{1,64}), got "Web Site"'],
  });
  const unknown = parseCycleArgs(["u", "--fast"], noEnv);
  assert.ok(!unknown.ok && unknown.errors.length === 1 && /Unknown option '--fast'/.test(unknown.errors[0]));
});
