import assert from "node:assert/strict";
import { configOf, errorsOf } from "../../_util/config.ts";

const TWO = `services:
  web: {backends: [{name: w1, url: "http://127.0.0.1:9001"}]}
  api: {backends: [{name: a1, url: "http://127.0.0.1:9101"}]}
`;

Deno.test("parseConfig() reads services whose unset keys inherit the top level, key by key", () => {
  const c = configOf(`strategy: least_connections
health_check: {interval: 1s, path: /ping}
retries: {attempts: 1}
services:
  web:
    backends: [{name: w1, url: "http://127.0.0.1:9001"}]
  api:
    strategy: Random
    health_check: {path: /healthz}
    retries: {budget: 0.5}
    hash: {key: "header:X-User"}
    backends: [{name: w1, url: "http://127.0.0.1:9101"}]
routes:
  - match: {host: api.example.test}
    service: api
  - service: web
`);
  const [web, api] = c.services;
  assert.deepEqual(c.services.map((s) => s.name), ["web", "api"]);
  assert.equal(web.strategy, "least_connections");
  assert.equal(web.healthCheck.path, "/ping");
  assert.equal(api.strategy, "random", "Go aliases work per service too");
  assert.equal(api.healthCheck.path, "/healthz");
  assert.equal(api.healthCheck.intervalMs, 1000, "interval inherited though health_check was given");
  assert.deepEqual([api.retries.attempts, api.retries.budget], [1, 0.5]);
  assert.equal(api.hash.key, "header:X-User");
  assert.equal(web.hash.key, "client_ip");
  assert.equal(api.backends[0].name, "w1", "backend names are unique within a service only");
  assert.equal(c.defaults.strategy, "least_connections");
});

Deno.test("parseConfig() reads slow_start, queue, peak_ewma, least_resources and sticky per service, inheriting key by key", () => {
  const c = configOf(`slow_start: 10s
queue: {max: 50, timeout: 1s}
peak_ewma: {decay: 5s}
least_resources: {cpu_weight: 0.5, memory_weight: 0.5, max_age: 3s}
sticky: {cookie: sid, secret: top, max_age: 2h}
services:
  web:
    backends: [{name: w1, url: "http://127.0.0.1:9001"}]
  api:
    slow_start: 0
    queue: {max: 5}
    peak_ewma: {decay: 2s}
    least_resources: {cpu_weight: 0.9}
    sticky: {cookie: api_sid, max_age: 10m}
    backends: [{name: a1, url: "http://127.0.0.1:9101"}]
routes:
  - match: {host: api.example.test}
    service: api
  - service: web
`);
  const [web, api] = c.services;
  assert.deepEqual(c.services.map((s) => s.name), ["web", "api"]);
  // The top level's own values, which web, setting none of these keys, inherits.
  assert.equal(c.defaults.slowStartMs, 10_000);
  assert.deepEqual(c.defaults.queue, { max: 50, timeoutMs: 1_000 });
  assert.deepEqual(c.defaults.tuning, {
    ewmaDecayMs: 5_000,
    cpuWeight: 0.5,
    memoryWeight: 0.5,
    statsMaxAgeMs: 3_000,
  });
  assert.deepEqual(c.defaults.sticky, { cookie: "sid", secret: "top", maxAgeMs: 7_200_000 });

  assert.equal(web.slowStartMs, 10_000);
  assert.deepEqual(web.queue, { max: 50, timeoutMs: 1_000 });
  assert.deepEqual(web.tuning, c.defaults.tuning);
  assert.deepEqual(
    web.sticky,
    { cookie: "sid_web", secret: "top", maxAgeMs: 7_200_000 },
    "the top level's sticky, under a cookie name of its own (several services)",
  );

  assert.equal(api.slowStartMs, 0, "slow_start: 0 turns it off in api, not back to the top level's");
  assert.deepEqual(api.queue, { max: 5, timeoutMs: 1_000 }, "queue.timeout inherited");
  assert.deepEqual(
    api.tuning,
    { ewmaDecayMs: 2_000, cpuWeight: 0.9, memoryWeight: 0.5, statsMaxAgeMs: 3_000 },
    "least_resources.memory_weight and max_age inherited",
  );
  assert.deepEqual(
    api.sticky,
    { cookie: "api_sid", secret: "top", maxAgeMs: 600_000 },
    "sticky.secret inherited; a cookie the service names is kept as given",
  );
});

Deno.test("parseConfig() turns a top-level backends list into the one default service with a catch-all", () => {
  const c = configOf(`strategy: random\nbackends: [{url: "http://127.0.0.1:9001"}]\n`);
  assert.deepEqual(c.services.map((s) => [s.name, s.strategy, s.backends.length]), [[
    "default",
    "random",
    1,
  ]]);
  assert.deepEqual(c.routes, [{
    name: "routes[0]",
    match: {},
    targets: [{ service: "default", weight: 1 }],
    stripPrefix: false,
  }]);
  const one = configOf(`services: {web: {backends: [{url: "http://127.0.0.1:9001"}]}}`);
  assert.deepEqual(
    one.routes[0].targets,
    [{ service: "web", weight: 1 }],
    "one service: routes may be left out",
  );
});

Deno.test("parseConfig() reads routes: matches, strip_prefix, split and names", () => {
  const c = configOf(`${TWO}routes:
  - name: api-v1
    match:
      host: "API.example.test"
      path_prefix: /v1/
      methods: [GET, POST]
      headers: {X-Canary: "1"}
    service: api
    strip_prefix: true
  - match: {path_prefix: /beta}
    split:
      - {service: web, weight: 90}
      - {service: api, weight: 10}
  - service: web
`);
  assert.deepEqual(c.routes[0], {
    name: "api-v1",
    match: {
      host: { kind: "exact", name: "api.example.test" },
      pathPrefix: "/v1",
      methods: ["GET", "POST"],
      headers: [["x-canary", "1"]],
    },
    targets: [{ service: "api", weight: 1 }],
    stripPrefix: true,
  });
  assert.deepEqual(c.routes[1].targets, [{ service: "web", weight: 90 }, { service: "api", weight: 10 }]);
  assert.equal(c.routes[2].name, "routes[2]");
});

const INVALID: [string, string, RegExp][] = [
  [
    "backends next to services",
    `backends: [{url: "http://127.0.0.1:1"}]\n${TWO}routes: [{service: web}]`,
    /^config\.yml:1: backends: not allowed with services: list each service's backends under services\.<name>\.backends$/,
  ],
  [
    "an unknown service in a route",
    `${TWO}routes:\n  - service: apii\n`,
    /^config\.yml:5: routes\[0\]\.service: unknown service "apii" \(did you mean api\?\); services: web, api$/,
  ],
  [
    "duplicate service names",
    `services:\n  web: {backends: [{url: "http://127.0.0.1:1"}]}\n  web: {backends: [{url: "http://127.0.0.1:2"}]}\n`,
    /^config\.yml:3: services\.web: duplicate key \(first given at config\.yml:2\)/,
  ],
  [
    "a route shadowed by an earlier catch-all",
    `${TWO}routes:\n  - service: web\n  - match: {path_prefix: /api}\n    service: api\n`,
    /^config\.yml:6: routes\[1\]: can never match: routes\[0\] above matches every request it would/,
  ],
  [
    "a route shadowed by a broader one",
    `${TWO}routes:\n  - match: {host: "*.example.test"}\n    service: web\n  - match: {host: a.example.test, path_prefix: /x}\n    service: api\n  - service: web\n`,
    /^config\.yml:7: routes\[1\]: can never match: routes\[0\] above/,
  ],
  [
    "a split weight that is not a positive integer",
    `${TWO}routes:\n  - split:\n      - {service: web, weight: 0}\n      - {service: api, weight: 1.5}\n`,
    /^config\.yml:6: routes\[0\]\.split\[0\]\.weight: must be a positive integer \(1\.\.10000\), got 0$/,
  ],
  [
    "a bad host pattern",
    `${TWO}routes:\n  - match: {host: "a*.example.test"}\n    service: api\n  - service: web\n`,
    /^config\.yml:5: routes\[0\]\.match\.host: must be a host name like api\.example\.test or \*\.example\.test/,
  ],
  [
    "a lower-case method",
    `${TWO}routes:\n  - match: {methods: [get]}\n    service: api\n  - service: web\n`,
    /routes\[0\]\.match\.methods\[0\]: must be a method like GET or POST \(methods are case-sensitive: GET\?\), got "get"/,
  ],
  [
    "strip_prefix without a prefix",
    `${TWO}routes:\n  - match: {host: a.test}\n    service: api\n    strip_prefix: true\n  - service: web\n`,
    /routes\[0\]\.strip_prefix: needs match\.path_prefix: there is nothing to strip/,
  ],
  [
    "several services and no routes",
    TWO,
    /^config\.yml:2: routes: is required with several services \(web, api\): say which requests go where$/,
  ],
  [
    "a route with both service and split",
    `${TWO}routes:\n  - service: web\n    split: [{service: web, weight: 1}, {service: api, weight: 1}]\n`,
    /routes\[0\]: needs exactly one of service or split/,
  ],
  [
    "the reserved service name none",
    `services:\n  none: {backends: [{url: "http://127.0.0.1:1"}]}\n`,
    /services\.none: "none" is reserved/,
  ],
  [
    "a bad key inside a service",
    `services:\n  web:\n    backends: [{url: "http://127.0.0.1:1"}]\n    health_check: {intervall: 1s}\n`,
    /^config\.yml:4: services\.web\.health_check\.intervall: unknown key \(did you mean `interval`\?\)/,
  ],
  [
    "a bad queue.max inside a service",
    `${TWO}  shop:\n    queue: {max: -1}\n    backends: [{url: "http://127.0.0.1:1"}]\nroutes: [{service: web}]\n`,
    /^config\.yml:5: services\.shop\.queue\.max: must be an integer \(0\.\.1000000\), got -1$/,
  ],
  [
    "a bad slow_start inside a service",
    `services:\n  web:\n    backends: [{url: "http://127.0.0.1:1"}]\n    slow_start: soon\n`,
    /^config\.yml:4: services\.web\.slow_start: must be a duration like 250ms, 5s or 1m, got "soon"$/,
  ],
  [
    "a too short peak_ewma.decay inside a service",
    `services:\n  web:\n    peak_ewma: {decay: 10ms}\n    backends: [{url: "http://127.0.0.1:1"}]\n`,
    /^config\.yml:3: services\.web\.peak_ewma\.decay: must be between 100ms and 24h, got "10ms"$/,
  ],
  [
    "a bad least_resources.cpu_weight inside a service",
    `services:\n  web:\n    backends: [{url: "http://127.0.0.1:1"}]\n    least_resources: {cpu_weight: 2}\n`,
    /^config\.yml:4: services\.web\.least_resources\.cpu_weight: must be a number between 0 and 1, got 2$/,
  ],
  [
    "a bad sticky cookie name inside a service",
    `sticky: {secret: x}\nservices:\n  web:\n    sticky: {cookie: "a b"}\n    backends: [{url: "http://127.0.0.1:1"}]\n`,
    /^config\.yml:4: services\.web\.sticky\.cookie: must be a cookie name \(.*\), got "a b"$/,
  ],
  [
    "a service without backends",
    `services:\n  web: {strategy: random}\n`,
    /services\.web\.backends: is required/,
  ],
];

for (const [what, text, expected] of INVALID) {
  Deno.test(`parseConfig() rejects ${what} with file, line and path`, () => {
    const errors = errorsOf(text);
    assert.ok(
      errors.some((e) => expected.test(e)),
      `no error matched ${expected}; got:\n${errors.join("\n")}`,
    );
    for (const e of errors) assert.ok(!e.includes("\n"), `one line per error: ${JSON.stringify(e)}`);
  });
}
