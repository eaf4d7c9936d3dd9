import assert from "node:assert/strict";
import { parseConfig } from "../../../lib/config/config.ts";
import { MAX_WORKERS, workerCount } from "../../../lib/config/workers.ts";

const B = "backends:\n  - url: http://127.0.0.1:9001\n";

Deno.test("parseConfig() reads workers: 1 by default, a count, or auto", () => {
  const read = (text: string) => {
    const r = parseConfig(text);
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    return r.config.workers;
  };
  assert.equal(read(B), 1);
  assert.equal(read(`workers: 4\n${B}`), 4);
  assert.equal(read(`workers: auto\n${B}`), "auto");
  assert.equal(read(`workers: "\${N:-3}"\n${B}`), 3);
});

Deno.test("parseConfig() rejects a bad workers value in one line naming file, line and field", () => {
  for (const bad of ["0", "-1", "2.5", "many", "true", `${MAX_WORKERS + 1}`, "[2]"]) {
    const r = parseConfig(`${B}workers: ${bad}\n`);
    assert.equal(r.ok, false, bad);
    assert.deepEqual(
      r.ok ? [] : r.errors,
      [
        bad === "[2]"
          ? "config.yml:3: workers: must be a single value, got a list"
          : `config.yml:3: workers: must be a positive integer (1..${MAX_WORKERS}) or auto, got ${
            JSON.stringify(bad === "true" ? true : /^-?[\d.]+$/.test(bad) ? Number(bad) : bad)
          }`,
      ],
    );
  }
});

Deno.test("workerCount() resolves auto to the cores, at least one", () => {
  assert.equal(workerCount("auto", 8), 8);
  assert.equal(workerCount("auto", 0), 1);
  assert.equal(workerCount("auto", 5000), MAX_WORKERS);
  assert.equal(workerCount(3, 8), 3);
});
