import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { dueBefore, planClients } from "../../../demo/load/schedule.ts";
import { seededRandom } from "../../../demo/shared/random.ts";

Deno.test("planClients() schedules rate x duration requests per client at spread phases", () => {
  const plans = planClients(4, 20, 3_000, undefined, seededRandom(1));
  for (const plan of plans) {
    equal(plan.intervalMs, 50);
    equal(plan.count, 60);
    ok(plan.phaseMs >= 0 && plan.phaseMs < 50);
    ok(/^203\.0\.113\.([1-9]\d?|1\d\d|2[0-4]\d|25[0-4])$/.test(plan.address), plan.address);
  }
  ok(new Set(plans.map((p) => p.phaseMs)).size === 4, "clients do not fire together");
});

Deno.test("planClients() spreads a request cap over clients and is repeatable by seed", () => {
  const plans = planClients(3, 10, Infinity, 10, seededRandom(2));
  deepEqual(plans.map((p) => p.count), [4, 3, 3]);
  deepEqual(planClients(3, 10, Infinity, 10, seededRandom(2)), plans);
  deepEqual(
    planClients(2, 10, 1_000, 100, seededRandom(2)).map((p) => p.count),
    [10, 10],
    "window caps first",
  );
  throws(() => planClients(1, 10, Infinity, undefined, seededRandom(2)), RangeError);
});

Deno.test("dueBefore() counts the requests due before a moment", () => {
  const [plan] = planClients(1, 10, 1_000, undefined, () => 0.5); // phase 50 ms, interval 100 ms
  equal(plan.phaseMs, 50);
  equal(dueBefore(plan, 0), 0);
  equal(dueBefore(plan, 50), 0);
  equal(dueBefore(plan, 51), 1);
  equal(dueBefore(plan, 151), 2);
  equal(dueBefore(plan, Infinity), 10);
});
