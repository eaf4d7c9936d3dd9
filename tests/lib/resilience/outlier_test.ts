import assert from "node:assert/strict";
import type { PassiveConfig } from "../../../lib/config/config.ts";
import { OutlierDetector } from "../../../lib/resilience/outlier.ts";
import { ejectionTarget, Pool } from "../../../lib/pool/pool.ts";
import type { Backend } from "../../../lib/pool/backend.ts";
import { waitFor } from "../../_util/harness.ts";

const FAIL = { kind: "connect" } as const;

function setup(n: number, passive: Partial<PassiveConfig> = {}, decide?: (b: Backend) => void) {
  const pool = new Pool(
    Array.from({ length: n }, (_, i) => ({ name: `b${i}`, url: `http://127.0.0.1:${i + 1}`, weight: 1 })),
  );
  for (const b of pool.all()) pool.setState(b, "healthy");
  const clock = { t: 0 };
  const config: PassiveConfig = {
    consecutiveFailures: 3,
    baseEjectionMs: 40,
    maxEjectionMs: 100,
    maxEjectedPercent: 50,
    on: ["connect_failure", "reset", "timeout", "5xx"],
    ...passive,
  };
  const ejected: [string, number][] = [];
  const d = new OutlierDetector({
    target: ejectionTarget(pool),
    config: () => config,
    now: () => clock.t,
    onEject: (b, ms) => ejected.push([b.name, ms]),
    decide,
  });
  return { pool, d, clock, ejected, b: pool.all() };
}

Deno.test("OutlierDetector.record() ejects after consecutive failures only", () => {
  const { d, b, ejected } = setup(4);
  d.record(b[0], FAIL);
  d.record(b[0], FAIL);
  d.record(b[0], undefined);
  d.record(b[0], FAIL);
  d.record(b[0], FAIL);
  assert.equal(b[0].state, "healthy", "a success in between resets the count");
  d.record(b[0], { kind: "status", status: 404 });
  d.record(b[0], FAIL);
  d.record(b[0], { kind: "status", status: 503 });
  assert.equal(b[0].state, "healthy", "a 4xx is not a failure and resets the count");
  d.record(b[0], { kind: "timeout" });
  assert.equal(b[0].state, "ejected");
  assert.deepEqual(ejected, [["b0", 40]]);
  d.stop();
});

Deno.test("OutlierDetector.record() ignores conditions not listed in passive.on", () => {
  const { d, b } = setup(2, { on: ["connect_failure"] });
  for (let i = 0; i < 10; i++) d.record(b[0], { kind: "status", status: 503 });
  assert.equal(b[0].state, "healthy");
  d.stop();
});

Deno.test("OutlierDetector.record() never ejects beyond max_ejected_percent", () => {
  const { d, b, pool } = setup(4); // 50% of 4: two at most
  for (const x of b) for (let i = 0; i < 3; i++) d.record(x, FAIL);
  assert.equal(pool.all().filter((x) => x.state === "ejected").length, 2);
  assert.equal(pool.eligible().length, 2);
  d.stop();
  const one = setup(1);
  for (let i = 0; i < 10; i++) one.d.record(one.b[0], FAIL);
  assert.equal(one.b[0].state, "healthy", "the only backend is never ejected at 50%");
  one.d.stop();
});

Deno.test("OutlierDetector returns a backend after base x count, capped at max, and decays the count", async () => {
  const { d, b, ejected, clock } = setup(2);
  const eject = () => {
    for (let i = 0; i < 3; i++) d.record(b[0], FAIL);
  };
  eject();
  await waitFor(() => b[0].state === "healthy", 1000, "return after the first ejection");
  eject();
  await waitFor(() => b[0].state === "healthy", 1000, "return after the second ejection");
  eject();
  await waitFor(() => b[0].state === "healthy", 1000, "return after the third ejection");
  assert.deepEqual(ejected.map(([, ms]) => ms), [40, 80, 100], "base x count, capped at max_ejection");
  // Long calm (in the injected clock): the multiplier decays back.
  clock.t += 40 * 10;
  eject();
  assert.deepEqual(ejected.at(-1), ["b0", 40]);
  d.stop();
});

Deno.test("OutlierDetector with decide hands a backend over at the threshold instead of ejecting it", () => {
  const asked: string[] = [];
  const { d, b, ejected } = setup(4, {}, (x) => asked.push(x.name));
  for (let i = 0; i < 7; i++) d.record(b[0], FAIL);
  assert.equal(b[0].state, "healthy", "a worker never ejects on its own");
  assert.deepEqual(ejected, []);
  assert.deepEqual(asked, ["b0", "b0"], "asked once per threshold reached, the count starting over");
  d.stop();
});

Deno.test("OutlierDetector.eject() ejects as a reached threshold would, within max_ejected_percent", () => {
  const { d, b, ejected } = setup(4);
  assert.equal(d.eject(b[0]), true);
  assert.equal(b[0].state, "ejected");
  assert.equal(d.eject(b[0]), false, "not serving: nothing to eject");
  assert.equal(d.eject(b[1]), true);
  assert.equal(d.eject(b[2]), false, "50% of 4 are out already");
  assert.deepEqual(ejected, [["b0", 40], ["b1", 40]]);
  d.stop();
});

Deno.test("OutlierDetector.eject() does nothing with passive health off", () => {
  const { d, b } = setup(2, { consecutiveFailures: 0 });
  assert.equal(d.eject(b[0]), false);
  assert.equal(b[0].state, "healthy");
  d.stop();
});
