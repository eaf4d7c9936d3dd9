import assert from "node:assert/strict";
import { PREQUAL_DEFAULTS } from "../../../lib/config/prequal.ts";
import { configOf as parsed, errorsOf as refused } from "../../_util/config.ts";

const OPTIONS = { file: "config.yml" };
const configOf = (text: string) => parsed(text, OPTIONS);
const errorsOf = (text: string) => refused(text, OPTIONS);

const ONE = `backends: [{url: "http://127.0.0.1:9001"}]\n`;

Deno.test("parseConfig() gives prequal its defaults and leaves the strategy tuning empty", () => {
  const [s] = configOf(ONE).services;
  assert.deepEqual(s.prequal, {
    probeRate: 0.5,
    maxProbeShare: 0.5,
    poolSize: 16,
    qRif: 1,
    maxAgeMs: 1_000,
  });
  assert.equal(s.prequal, PREQUAL_DEFAULTS);
  assert.deepEqual(s.tuning, {});
});

Deno.test("parseConfig() reads prequal at the top level and per service, key by key", () => {
  const c = configOf(`prequal: {probe_rate: 0.5, q_rif: 0.9, max_age: 250ms}
services:
  web: {backends: [{name: w1, url: "http://127.0.0.1:9001"}]}
  api:
    prequal: {probe_path: /load, pool_size: 4, max_probe_share: 0.25}
    backends: [{name: a1, url: "http://127.0.0.1:9101"}]
routes:
  - {match: {path_prefix: /api}, service: api}
  - service: web
`);
  const [web, api] = c.services;
  assert.deepEqual(web.prequal, { ...PREQUAL_DEFAULTS, probeRate: 0.5, qRif: 0.9, maxAgeMs: 250 });
  assert.deepEqual(api.prequal, {
    probePath: "/load",
    probeRate: 0.5,
    maxProbeShare: 0.25,
    poolSize: 4,
    qRif: 0.9,
    maxAgeMs: 250,
  });
  // The strategy reads q_rif from its tuning, inherited with the rest.
  assert.equal(web.tuning.qRif, 0.9);
  assert.equal(api.tuning.qRif, 0.9);
  assert.equal(c.defaults.prequal.qRif, 0.9);
});

Deno.test("parseConfig() names file, line and field of every bad prequal value", () => {
  const errors = errorsOf(`prequal:
  probe_path: health
  probe_rate: 0
  max_probe_share: 1
  pool_size: 0
  q_rif: 1.5
  max_age: 5ms
${ONE}`);
  assert.deepEqual(errors, [
    'config.yml:2: prequal.probe_path: must start with / and contain no spaces, got "health"',
    "config.yml:3: prequal.probe_rate: must be a number between 0.01 and 16, got 0",
    "config.yml:4: prequal.max_probe_share: must be a number between 0.01 and 0.95, got 1",
    "config.yml:5: prequal.pool_size: must be an integer (1..1024), got 0",
    "config.yml:6: prequal.q_rif: must be a number between 0 and 1, got 1.5",
    'config.yml:7: prequal.max_age: must be between 10ms and 24h, got "5ms"',
  ]);
  assert.match(
    errorsOf(`prequal: {probe_rat: 1}\n${ONE}`)[0],
    /prequal\.probe_rat: unknown key \(did you mean `probe_rate`\?\)/,
  );
  assert.match(
    errorsOf(`services:\n  web:\n    prequal: {q_rif: x}\n    backends: [{url: "http://127.0.0.1:1"}]\n`)[0],
    /^config\.yml:3: services\.web\.prequal\.q_rif: must be a number/,
  );
});

Deno.test("parseConfig() accepts prequal as a strategy, top level or per service", () => {
  assert.equal(configOf(`strategy: prequal\n${ONE}`).services[0].strategy, "prequal");
});
