import assert from "node:assert/strict";
import { configOf, errorsOf } from "../../_util/config.ts";

const BACKENDS = `backends: [{name: a, url: "http://127.0.0.1:9001"}]\n`;

Deno.test("parseConfig() leaves hedging off unless it is set", () => {
  assert.equal(configOf(BACKENDS).services[0].hedging, null);
});

Deno.test("parseConfig() reads hedging with a fixed delay or a percentile, defaults p95 and 5%", () => {
  assert.deepEqual(configOf(`hedging: {delay: 50ms, max_ratio: 0.1}\n${BACKENDS}`).services[0].hedging, {
    delay: { kind: "fixed", ms: 50 },
    maxRatio: 0.1,
  });
  assert.deepEqual(configOf(`hedging: {delay: p99.9}\n${BACKENDS}`).services[0].hedging, {
    delay: { kind: "percentile", percentile: 99.9 },
    maxRatio: 0.05,
  });
  assert.deepEqual(configOf(`hedging: {}\n${BACKENDS}`).services[0].hedging, {
    delay: { kind: "percentile", percentile: 95 },
    maxRatio: 0.05,
  });
});

Deno.test("parseConfig() lets a service inherit hedging key by key, or turn it off", () => {
  const c = configOf(`hedging: {delay: 40ms, max_ratio: 0.02}
services:
  web: {backends: [{name: w, url: "http://127.0.0.1:9001"}]}
  api: {hedging: {max_ratio: 0.2}, backends: [{name: a, url: "http://127.0.0.1:9002"}]}
  off: {hedging: false, backends: [{name: o, url: "http://127.0.0.1:9003"}]}
routes:
  - {match: {path_prefix: /api}, service: api}
  - {match: {path_prefix: /off}, service: off}
  - service: web
`);
  const [web, api, off] = c.services;
  assert.deepEqual(web.hedging, { delay: { kind: "fixed", ms: 40 }, maxRatio: 0.02 });
  assert.deepEqual(api.hedging, { delay: { kind: "fixed", ms: 40 }, maxRatio: 0.2 });
  assert.equal(off.hedging, null);
});

Deno.test("parseConfig() names the field of every bad hedging value", () => {
  const cases: [string, RegExp][] = [
    ["hedging: {delay: 0}", /config.yml:1: hedging.delay: must be between 1ms and 24h, got 0/],
    ["hedging: {delay: p100}", /hedging.delay: must be a percentile from p50 to below p100, got "p100"/],
    ["hedging: {delay: p10}", /hedging.delay: must be a percentile from p50/],
    ["hedging: {delay: pfast}", /hedging.delay: must be a duration like 50ms or a percentile like "p95"/],
    ["hedging: {delay: soon}", /hedging.delay: must be a duration like 250ms/],
    ["hedging: {max_ratio: 0}", /hedging.max_ratio: must be more than 0 \(hedging: false turns it off\)/],
    ["hedging: {max_ratio: 1.5}", /hedging.max_ratio: must be a number between 0 and 1, got 1.5/],
    ["hedging: true", /hedging: must be a mapping like \{delay: 50ms, max_ratio: 0.05\}, or false, got true/],
    ["hedging: {dealy: 5ms}", /hedging.dealy: unknown key \(did you mean `delay`\?\)/],
  ];
  for (const [yaml, expected] of cases) {
    const errors = errorsOf(`${yaml}\n${BACKENDS}`);
    assert.equal(errors.length, 1, `${yaml}: ${errors.join("; ")}`);
    assert.match(errors[0], expected);
  }
});
