import assert from "node:assert/strict";
import { loadConfig, parseConfig } from "../../../lib/config/config.ts";

const B = "backends:\n  - url: http://127.0.0.1:9001\n";

function errorsOf(text: string, env: Record<string, string> = {}): string[] {
  const r = parseConfig(text, { env: (n) => env[n] });
  assert.equal(r.ok, false, `expected errors for:\n${text}`);
  return r.ok ? [] : r.errors;
}

function configOf(text: string, env: Record<string, string> = {}) {
  const r = parseConfig(text, { env: (n) => env[n] });
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

Deno.test("parseConfig() applies documented defaults when only backends are given", () => {
  const c = configOf(B);
  assert.deepEqual(c.listen, { hostname: "0.0.0.0", port: 8080 });
  assert.deepEqual(c.admin, { listen: { hostname: "127.0.0.1", port: 8081 }, token: "" });
  assert.equal(c.services[0].strategy, "round_robin");
  assert.equal(c.exposeBackendHeader, false);
  assert.deepEqual(c.services[0].backends, [{
    name: "127.0.0.1_9001",
    url: "http://127.0.0.1:9001",
    weight: 1,
  }]);
  assert.deepEqual(c.services[0].healthCheck, {
    path: "/health",
    intervalMs: 5000,
    timeoutMs: 2000,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    expectedStatus: [[200, 399]],
  });
  assert.deepEqual(c.timeouts, {
    requestMs: 30000,
    connectMs: 5000,
    clientHeaderMs: 10000,
    clientIdleMs: 60000,
    tunnelIdleMs: 3600000,
    tlsHandshakeMs: 10000,
  });
  assert.equal(c.shutdownTimeoutMs, 10000);
  assert.deepEqual(c.services[0].hash, { key: "client_ip" });
  assert.deepEqual(c.trustedProxies, []);
  assert.deepEqual(c.services[0].tuning, {});
});

Deno.test("parseConfig() reads hash, trusted_proxies and strategy tuning", () => {
  const c = configOf(`strategy: IpHashing
hash: {key: "cookie:session"}
trusted_proxies: ["10.0.0.0/8", "::1"]
peak_ewma: {decay: 2s}
least_resources: {cpu_weight: 0.5, memory_weight: 0.5, max_age: 3s}
${B}`);
  assert.equal(c.services[0].strategy, "ip_hash");
  assert.deepEqual(c.services[0].hash, { key: "cookie:session" });
  assert.deepEqual(c.trustedProxies, ["10.0.0.0/8", "::1"]);
  assert.deepEqual(c.services[0].tuning, {
    ewmaDecayMs: 2000,
    cpuWeight: 0.5,
    memoryWeight: 0.5,
    statsMaxAgeMs: 3000,
  });
});

Deno.test("parseConfig() reads every key of the documented example", async () => {
  const r = await loadConfig(new URL("../../../config.yml", import.meta.url).pathname, () => undefined);
  assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
  assert.equal(r.config.services[0].backends.length, 3);
  const c = configOf(`
listen: "[::1]:9000"
admin: {listen: ":9100", token: s3cret}
strategy: RoundRobin
expose_backend_header: true
backends:
  - {name: web-1, url: "https://example.test:8443/", weight: 3}
health_check: {path: /ready, interval: 1m30s, timeout: 250ms, healthy_threshold: 4, unhealthy_threshold: 5,
  expected_status: "200,204,300-302"}
timeouts: {request: 2s, connect: 100ms, client_header: 3s, client_idle: 90s, tunnel_idle: 5m}
shutdown_timeout: 0
`);
  assert.deepEqual(c.listen, { hostname: "::1", port: 9000 });
  assert.deepEqual(c.admin, { listen: { hostname: "0.0.0.0", port: 9100 }, token: "s3cret" });
  assert.equal(c.services[0].strategy, "round_robin", "Go alias resolved");
  assert.equal(c.exposeBackendHeader, true);
  assert.deepEqual(c.services[0].backends, [{ name: "web-1", url: "https://example.test:8443", weight: 3 }]);
  assert.equal(c.services[0].healthCheck.intervalMs, 90000);
  assert.deepEqual(c.services[0].healthCheck.expectedStatus, [[200, 200], [204, 204], [300, 302]]);
  assert.deepEqual(c.timeouts, {
    requestMs: 2000,
    connectMs: 100,
    clientHeaderMs: 3000,
    clientIdleMs: 90000,
    tunnelIdleMs: 300000,
    tlsHandshakeMs: 10000,
  });
  assert.equal(c.shutdownTimeoutMs, 0);
});

Deno.test("parseConfig() expands ${VAR} and ${VAR:-default} in strings", () => {
  const c = configOf(
    `admin: {token: "\${TOKEN}"}\nbackends:\n  - url: "http://\${HOST:-localhost}:\${PORT:-9001}"\n    weight: "\${W}"\n`,
    { TOKEN: "abc", PORT: "7000", W: "4" },
  );
  assert.equal(c.admin.token, "abc");
  assert.equal(c.services[0].backends[0].url, "http://localhost:7000");
  assert.equal(c.services[0].backends[0].weight, 4);
  const [e] = errorsOf(`admin: {token: "\${MISSING}"}\n${B}`);
  assert.match(e, /^config\.yml:1: admin\.token: environment variable MISSING is not set/);
});

// [config text, expected substring of the error: path and what was wrong, line when given]
const INVALID: [string, string, RegExp][] = [
  ["empty file", "", /file is empty; backends: is required/],
  ["backends missing", "strategy: round_robin\n", /backends: is required/],
  ["zero backends", "backends: []\n", /^config\.yml:1: backends: must list at least one backend/],
  ["backends not a list", "backends: http://x\n", /backends: must be a list/],
  ["backend url missing", "backends:\n  - name: a\n", /config\.yml:2: backends\[0\]\.url: is required/],
  [
    "negative weight",
    `${B}    weight: -2\n`,
    /^config\.yml:3: backends\[0\]\.weight: must be a positive integer \(1\.\.10000\), got -2$/,
  ],
  ["zero weight", `${B}    weight: 0\n`, /backends\[0\]\.weight: must be a positive integer/],
  ["fractional weight", `${B}    weight: 1.5\n`, /backends\[0\]\.weight: must be a positive integer/],
  ["string weight", `${B}    weight: heavy\n`, /backends\[0\]\.weight: .*got "heavy"/],
  ["huge weight", `${B}    weight: 1e300\n`, /backends\[0\]\.weight: must be a positive integer/],
  [
    "bad scheme",
    "backends:\n  - url: ftp://x:21\n",
    /backends\[0\]\.url: scheme must be http or https, got "ftp:\/\/x:21"/,
  ],
  [
    "url with path",
    "backends:\n  - url: http://x/api\n",
    /backends\[0\]\.url: must be an origin without path/,
  ],
  [
    "url with query",
    "backends:\n  - url: http://x/?a=1\n",
    /backends\[0\]\.url: must be an origin without path, query/,
  ],
  ["not a url", "backends:\n  - url: localhost\n", /backends\[0\]\.url: must be an absolute http\(s\) URL/],
  ["credentials", "backends:\n  - url: http://u:p@x\n", /backends\[0\]\.url: must not contain credentials/],
  ["bad name", "backends:\n  - {url: http://x, name: Web 1}\n", /backends\[0\]\.name: must match/],
  [
    "duplicate names",
    "backends:\n  - {url: http://x, name: a}\n  - {url: http://y, name: a}\n",
    /^config\.yml:3: backends\[1\]\.name: duplicate backend name "a" \(also backends\[0\]\)/,
  ],
  [
    "duplicate derived names",
    "backends:\n  - url: http://x:1\n  - url: http://x:1\n",
    /backends\[1\]\.name: duplicate/,
  ],
  [
    "unknown top key",
    `helth_check: {}\n${B}`,
    /^config\.yml:1: helth_check: unknown key \(did you mean `health_check`\?\)/,
  ],
  [
    "unknown backend key",
    `${B}    wieght: 2\n`,
    /backends\[0\]\.wieght: unknown key \(did you mean `weight`\?\)/,
  ],
  [
    "unknown health key",
    `health_check: {intervall: 5s}\n${B}`,
    /health_check\.intervall: unknown key \(did you mean `interval`\?\)/,
  ],
  ["unknown strategy", `strategy: fastest\n${B}`, /strategy: unknown strategy "fastest"; valid: round_robin/],
  [
    "duration without unit",
    `health_check: {interval: 5}\n${B}`,
    /health_check\.interval: must be a duration like 250ms, 5s or 1m, got 5/,
  ],
  ["negative duration", `timeouts: {request: -1s}\n${B}`, /timeouts\.request: must be a duration/],
  ["huge duration", `timeouts: {request: 1000h}\n${B}`, /timeouts\.request: must be between 1ms and 24h/],
  [
    "zero interval",
    `health_check: {interval: 0s}\n${B}`,
    /health_check\.interval: must be between 10ms and 24h/,
  ],
  ["bad listen", `listen: 8080\n${B}`, /listen: must be a string, got 8080/],
  ["listen without port", `listen: "0.0.0.0"\n${B}`, /listen: must be host:port/],
  ["port out of range", `listen: ":70000"\n${B}`, /listen: must be host:port/],
  [
    "admin same as public",
    `listen: "127.0.0.1:9000"\nadmin: {listen: "127.0.0.1:9000"}\n${B}`,
    /admin\.listen: must differ from listen/,
  ],
  [
    "bad boolean",
    `expose_backend_header: yes\n${B}`,
    /expose_backend_header: must be true or false, got "yes"/,
  ],
  [
    "threshold zero",
    `health_check: {healthy_threshold: 0}\n${B}`,
    /health_check\.healthy_threshold: must be an integer \(1\.\.100\), got 0/,
  ],
  [
    "bad status range",
    `health_check: {expected_status: "300-200"}\n${B}`,
    /health_check\.expected_status: must be status codes or ranges/,
  ],
  ["bad health path", `health_check: {path: "health"}\n${B}`, /health_check\.path: must start with \//],
  ["admin not a map", `admin: yes\n${B}`, /admin: must be a mapping/],
  ["top not a map", "- a\n- b\n", /must be a mapping, got a list/],
  ["syntax error", "backends: [\n", /^config\.yml:\d+: YAML syntax error: /],
  [
    "duplicate keys",
    `strategy: a\nstrategy: b\n${B}`,
    /^config\.yml:2: strategy: duplicate key \(first given at config\.yml:1\)/,
  ],
  ["binary garbage", "\0\x01\x02\xff", /not a text file/],
  ["bad hash key", `hash: {key: "ip"}\n${B}`, /^config\.yml:1: hash\.key: /],
  ["bad trusted proxy", `trusted_proxies: ["10.0.0.0/33"]\n${B}`, /^config\.yml:1: trusted_proxies\[0\]: /],
  ["trusted proxies not a list", `trusted_proxies: 10.0.0.0/8\n${B}`, /trusted_proxies: must be a list/],
  ["short ewma decay", `peak_ewma: {decay: 1ms}\n${B}`, /peak_ewma\.decay: must be between 100ms and 24h/],
  [
    "cpu weight above 1",
    `least_resources: {cpu_weight: 2}\n${B}`,
    /least_resources\.cpu_weight: must be a number between 0 and 1, got 2/,
  ],
  [
    "both weights zero",
    `least_resources: {cpu_weight: 0, memory_weight: 0}\n${B}`,
    /least_resources: cpu_weight and memory_weight cannot both be 0/,
  ],
];

for (const [name, text, expected] of INVALID) {
  Deno.test(`parseConfig() rejects ${name} with the field path`, () => {
    const errors = errorsOf(text);
    assert.ok(
      errors.some((e) => expected.test(e)),
      `no error matched ${expected}; got:\n${errors.join("\n")}`,
    );
    for (const e of errors) assert.ok(!e.includes("\n"), `one line per error: ${JSON.stringify(e)}`);
    for (const e of errors) assert.ok(!/\bat \S+:\d+:\d+/.test(e), "no stack trace");
  });
}

Deno.test("parseConfig() reports every error at once, in line order", () => {
  const errors = errorsOf(
    "strategy: nope\nbackends:\n  - {url: http://x, weight: 0}\n  - {url: ftp://y}\n",
  );
  assert.equal(errors.length, 3);
  assert.deepEqual(errors.map((e) => Number(/^config\.yml:(\d+):/.exec(e)?.[1])), [1, 3, 4]);
});

Deno.test("loadConfig() turns a missing file into an error value", async () => {
  const r = await loadConfig("/nonexistent/lb.yml");
  assert.equal(r.ok, false);
  assert.match(r.ok ? "" : r.errors[0], /^\/nonexistent\/lb\.yml: cannot read config: file not found$/);
});

Deno.test("parseConfig() reads tls.certificates and names the line and entry of a bad one", () => {
  const c = configOf(
    `tls:
  cert: /etc/lb/c.pem
  key: /etc/lb/k.pem
  certificates:
    - {cert: /etc/lb/a.pem, key: /etc/lb/a.key}
    - cert: /etc/lb/b.pem
      key: /etc/lb/b.key
backends: [{url: "http://127.0.0.1:9001"}]
`,
  );
  assert.deepEqual(c.tls?.certificates, [
    { certFile: "/etc/lb/a.pem", keyFile: "/etc/lb/a.key" },
    { certFile: "/etc/lb/b.pem", keyFile: "/etc/lb/b.key" },
  ]);
  const bad = parseConfig(
    `tls:
  cert: /c.pem
  key: /k.pem
  certificates:
    - {cert: /a.pem, key: /a.key}
    - {cert: /b.pem}
    - {cert: "", key: /c.key, names: [x]}
backends: [{url: "http://127.0.0.1:9001"}]
`,
  );
  assert.deepEqual(bad.ok ? [] : bad.errors, [
    "config.yml:6: tls.certificates[1].key: is required: the path of the PEM private key",
    "config.yml:7: tls.certificates[2].names: unknown key; expected one of cert, key",
    "config.yml:7: tls.certificates[2].cert: must be a file path, got an empty string",
  ]);
  const notList = parseConfig(`tls: {cert: /c.pem, key: /k.pem, certificates: /a.pem}
backends: [{url: "http://127.0.0.1:9001"}]
`);
  assert.match(notList.ok ? "" : notList.errors[0], /^config\.yml:1: tls\.certificates: must be a list/);
});

Deno.test("parseConfig() reads tls and refuses it without a certificate or on a taken address", () => {
  const c = configOf(
    `tls: {listen: "127.0.0.1:8443", cert: /etc/lb/c.pem, key: /etc/lb/k.pem, redirect_http: true}
timeouts: {tls_handshake: 2s}
backends: [{url: "http://127.0.0.1:9001"}]
`,
  );
  assert.deepEqual(c.tls, {
    listen: { hostname: "127.0.0.1", port: 8443 },
    certFile: "/etc/lb/c.pem",
    keyFile: "/etc/lb/k.pem",
    certificates: [],
    http2: true,
    redirectHttp: true,
  });
  assert.equal(c.timeouts.tlsHandshakeMs, 2000);
  assert.equal(configOf(`backends: [{url: "http://127.0.0.1:9001"}]`).tls, null);
  const missing = parseConfig(`tls: {cert: /c.pem}\nbackends: [{url: "http://127.0.0.1:9001"}]\n`);
  assert.deepEqual(missing.ok ? [] : missing.errors, [
    "config.yml:1: tls.key: is required: the path of the PEM private key",
  ]);
  const taken = parseConfig(
    `listen: "0.0.0.0:8080"\ntls: {listen: "0.0.0.0:8080", cert: /c.pem, key: /k.pem}\nbackends: [{url: "http://127.0.0.1:9001"}]\n`,
  );
  assert.match(
    taken.ok ? "" : taken.errors[0],
    /^config\.yml:2: tls\.listen: must differ from listen \(0\.0\.0\.0:8080\)$/,
  );
});
