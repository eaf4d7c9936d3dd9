import { deepEqual, equal, ok } from "node:assert/strict";
import { LOAD_DEFAULTS, parseLoadArgs } from "../../../demo/load/config.ts";

const noEnv = () => undefined;

Deno.test("parseLoadArgs() reads the Go client's flags and the added ones", () => {
  const parsed = parseLoadArgs([
    "--url=http://127.0.0.1:8080/x",
    "--clients=3",
    "--duration=1m30s",
    "--rate=2.5",
    "--requests=100",
    "--timeout=250ms",
    "--method=post",
    "--header=X-A: 1",
    "--header",
    "X-B:two: parts",
    "--body={}",
    "--seed=5",
    "--max-inflight=4",
    "--json",
    "--max-errors=0.05",
    "--client-header=X-Client-Id",
    "--failover",
    "--attempt-timeout=750ms",
  ], noEnv);
  ok(parsed.ok && parsed.value !== "help");
  deepEqual(parsed.value, {
    url: "http://127.0.0.1:8080/x",
    clients: 3,
    durationMs: 90_000,
    rate: 2.5,
    requests: 100,
    timeoutMs: 250,
    method: "POST",
    headers: [["X-A", "1"], ["X-B", "two: parts"]],
    body: "{}",
    seed: 5,
    maxInFlight: 4,
    json: true,
    maxErrors: 0.05,
    clientHeader: "x-client-id",
    failover: true,
    attemptTimeoutMs: 750,
  });
});

Deno.test("parseLoadArgs() uses defaults, LOAD_* variables, and an open duration with only --requests", () => {
  const env: Record<string, string> = {
    LOAD_URL: "http://127.0.0.1:1/",
    LOAD_CLIENTS: "7",
    LOAD_JSON: "true",
  };
  const parsed = parseLoadArgs(["--clients", "2"], (name) => env[name]);
  ok(parsed.ok && parsed.value !== "help");
  equal(parsed.value.url, "http://127.0.0.1:1/");
  equal(parsed.value.clients, 2);
  equal(parsed.value.json, true);
  equal(parsed.value.durationMs, LOAD_DEFAULTS.durationMs);
  const counted = parseLoadArgs(["--url", "http://h/", "--requests", "10"], noEnv);
  ok(counted.ok && counted.value !== "help" && counted.value.durationMs === Infinity);
});

Deno.test("parseLoadArgs() reports every bad value", () => {
  const parsed = parseLoadArgs(
    [
      "--url",
      "localhost:80",
      "--clients",
      "0",
      "--timeout",
      "0s",
      "--header",
      "novalue",
      "--max-errors",
      "1.5",
      "--client-header",
      "X Client",
      "--attempt-timeout",
      "soon",
    ],
    noEnv,
  );
  ok(!parsed.ok);
  equal(parsed.errors.length, 7, parsed.errors.join("\n"));
  ok(parsed.errors.includes('Cannot use --client-header: expected a header name, got "X Client"'));
  ok(!parseLoadArgs([], noEnv).ok, "a URL is required");
});
