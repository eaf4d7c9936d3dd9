import { equal, ok } from "node:assert/strict";
import { formatDuration, parseDuration } from "../../../lib/config/duration.ts";

Deno.test("parseDuration() reads Go-style units and compound durations", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["0s", 0],
    ["250ms", 250],
    ["5s", 5_000],
    ["1m", 60_000],
    ["1h30m", 5_400_000],
    ["1h0m0s", 3_600_000],
    ["1.5s", 1_500],
    [".5s", 500],
    ["2.s", 2_000],
    ["300us", 0.3],
    ["300µs", 0.3],
    ["300μs", 0.3],
    ["1500ns", 0.0015],
    ["1m30s250ms", 90_250],
    [" 20ms ", 20],
  ];
  for (const [text, ms] of cases) {
    const got = parseDuration(text);
    ok(got !== undefined && Math.abs(got - ms) < 1e-9, `${text} -> ${got}, want ${ms}`);
  }
});

Deno.test("parseDuration() rejects text that is not a duration", () => {
  for (
    const text of ["", "250", "ms", "1x", "1 s", "-1s", "+1s", "1h 30m", "s5", "1.2.3s", ".s", "1d", "1e3ms"]
  ) {
    equal(parseDuration(text), undefined, `"${text}" should be rejected`);
  }
});

Deno.test("formatDuration() writes the compact form", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [250, "250ms"],
    [1.5, "1.5ms"],
    [0.3, "300µs"],
    [0.000_5, "500ns"],
    [1_000, "1s"],
    [1_500, "1.5s"],
    [60_000, "1m"],
    [90_250, "1m30.25s"],
    [5_400_000, "1h30m"],
    [3_600_000 + 1, "1h0.001s"],
    [-2_000, "-2s"],
  ];
  for (const [ms, text] of cases) equal(formatDuration(ms), text, `${ms}`);
});

Deno.test("formatDuration() output parses back to the same value", () => {
  for (const ms of [0, 0.001, 0.25, 1, 7.125, 999, 1_000, 59_999, 61_000, 3_599_999, 3_600_000, 86_400_123]) {
    const back = parseDuration(formatDuration(ms));
    ok(back !== undefined && Math.abs(back - ms) < 1e-6, `${ms} -> ${formatDuration(ms)} -> ${back}`);
  }
});
