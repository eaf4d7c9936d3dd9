import assert from "node:assert/strict";
import { parseConfig } from "../../../lib/config/config.ts";

const BACKENDS = `backends: [{name: a, url: "http://127.0.0.1:9001"}]\n`;
const env = (vars: Record<string, string>) => (name: string) => vars[name];

function configOf(text: string, vars: Record<string, string> = {}) {
  const r = parseConfig(text, { env: env(vars) });
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

function errorsOf(text: string, vars: Record<string, string> = {}): string[] {
  const r = parseConfig(text, { env: env(vars) });
  assert.equal(r.ok, false, "expected errors");
  return r.ok ? [] : r.errors;
}

Deno.test("parseConfig() reads sticky with the secret from the environment and defaults", () => {
  const c = configOf(`sticky: {secret: "\${LB_STICKY_SECRET}"}\n${BACKENDS}`, { LB_STICKY_SECRET: "k1" });
  assert.deepEqual(c.services[0].sticky, { cookie: "lb_sticky", secret: "k1", maxAgeMs: 3_600_000 });
  assert.equal(configOf(BACKENDS).services[0].sticky, null, "off unless set");
  assert.deepEqual(
    configOf(`sticky: {cookie: SID, secret: x, max_age: 90m}\n${BACKENDS}`).services[0].sticky,
    { cookie: "SID", secret: "x", maxAgeMs: 5_400_000 },
  );
});

Deno.test("parseConfig() requires a non-empty sticky secret, in one line naming the field", () => {
  const missing = errorsOf(`sticky: {cookie: s}\n${BACKENDS}`);
  assert.deepEqual(missing, [
    'config.yml:1: sticky.secret: is required: the key that signs the cookies, e.g. "${LB_STICKY_SECRET}"',
  ]);
  const empty = errorsOf(`sticky: {secret: ""}\n${BACKENDS}`);
  assert.deepEqual(empty, [
    'config.yml:1: sticky.secret: must not be empty: the key that signs the cookies, e.g. "${LB_STICKY_SECRET}"',
  ]);
  const unset = errorsOf(`sticky: {secret: "\${LB_STICKY_SECRET}"}\n${BACKENDS}`);
  assert.equal(unset.length, 1);
  assert.match(unset[0], /sticky.secret: environment variable LB_STICKY_SECRET is not set/);
});

Deno.test("parseConfig() names bad sticky cookie names and lifetimes", () => {
  const cases: [string, RegExp][] = [
    ["sticky: {secret: x, cookie: 'a b'}", /sticky.cookie: must be a cookie name .* got "a b"/],
    ["sticky: {secret: x, max_age: 500ms}", /sticky.max_age: must be a duration from 1s to 8760h/],
    ["sticky: {secret: x, max_age: 9000h}", /sticky.max_age: must be a duration from 1s to 8760h/],
    [
      "sticky: yes",
      /sticky: must be a mapping like \{secret: "\$\{LB_STICKY_SECRET\}"\}, or false, got "yes"/,
    ],
  ];
  for (const [yaml, expected] of cases) {
    const errors = errorsOf(`${yaml}\n${BACKENDS}`);
    assert.equal(errors.length, 1, `${yaml}: ${errors.join("; ")}`);
    assert.match(errors[0], expected);
  }
});

Deno.test("parseConfig() gives each of several services its own sticky cookie unless one is named", () => {
  const c = configOf(`sticky: {secret: top}
services:
  web: {backends: [{name: w, url: "http://127.0.0.1:9001"}]}
  api: {sticky: {max_age: 10m}, backends: [{name: a, url: "http://127.0.0.1:9002"}]}
  shop: {sticky: {cookie: cart, secret: own}, backends: [{name: s, url: "http://127.0.0.1:9003"}]}
  plain: {sticky: false, backends: [{name: p, url: "http://127.0.0.1:9004"}]}
routes:
  - {match: {path_prefix: /api}, service: api}
  - {match: {path_prefix: /shop}, service: shop}
  - {match: {path_prefix: /plain}, service: plain}
  - service: web
`);
  const [web, api, shop, plain] = c.services;
  assert.deepEqual(web.sticky, { cookie: "lb_sticky_web", secret: "top", maxAgeMs: 3_600_000 });
  assert.deepEqual(api.sticky, { cookie: "lb_sticky_api", secret: "top", maxAgeMs: 600_000 });
  assert.deepEqual(shop.sticky, { cookie: "cart", secret: "own", maxAgeMs: 3_600_000 });
  assert.equal(plain.sticky, null);
  const missing = errorsOf(`services:
  web: {sticky: {max_age: 1m}, backends: [{name: w, url: "http://127.0.0.1:9001"}]}
`);
  assert.deepEqual(missing, [
    'config.yml:2: services.web.sticky.secret: is required: the key that signs the cookies, e.g. "${LB_STICKY_SECRET}"',
  ]);
});
