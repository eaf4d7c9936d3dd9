import assert from "node:assert/strict";
import { parseConfig } from "../../../lib/config/config.ts";
import { DOCKER_DISCOVERY_DEFAULTS, needsDocker } from "../../../lib/config/docker.ts";

const B = "backends:\n  - url: http://127.0.0.1:9001\n";

function parse(text: string, env: Record<string, string> = {}) {
  return parseConfig(text, { env: (n) => env[n] });
}

function configOf(text: string, env: Record<string, string> = {}) {
  const r = parse(text, env);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

Deno.test("parseConfig() leaves Docker discovery off by default and never needs Docker then", () => {
  const c = configOf(B);
  assert.deepEqual(c.discovery, { docker: DOCKER_DISCOVERY_DEFAULTS });
  assert.deepEqual(DOCKER_DISCOVERY_DEFAULTS, {
    enabled: false,
    socket: "/var/run/docker.sock",
    label: "lb.enable",
    portLabel: "lb.port",
    serviceLabel: "lb.service",
    network: "",
    mode: "containers",
    pollIntervalMs: 5_000,
    dnsFallback: [],
  });
  assert.equal(c.services[0].backends[0].container, undefined);
  assert.equal(needsDocker(c), false);
});

Deno.test("parseConfig() reads discovery.docker and backends[].container", () => {
  const c = configOf(`discovery:
  docker: {enabled: true, socket: /run/docker.sock, label: "team=web", port_label: web.port, service_label: web.svc,
    network: front}
backends:
  - {name: a, url: "http://10.0.0.1:80", container: web-1}
  - {name: b, url: "http://10.0.0.2:80", container: 3f2a9c0d1e4b}
`);
  assert.deepEqual(c.discovery.docker, {
    enabled: true,
    socket: "/run/docker.sock",
    label: "team=web",
    portLabel: "web.port",
    serviceLabel: "web.svc",
    network: "front",
    mode: "containers",
    pollIntervalMs: 5_000,
    dnsFallback: [],
  });
  assert.deepEqual(c.services[0].backends.map((b) => b.container), ["web-1", "3f2a9c0d1e4b"]);
  assert.equal(needsDocker(c), true);
});

Deno.test("parseConfig() needs Docker when only a backend names a container", () => {
  const c = configOf(`${B}    container: web-1\n`);
  assert.equal(c.discovery.docker.enabled, false);
  assert.equal(needsDocker(c), true);
});

Deno.test("parseConfig() treats an empty container (an unset ${VAR:-}) as none", () => {
  const text = `${B}    container: "\${LB_CONTAINER1:-}"\n`;
  assert.equal(configOf(text).services[0].backends[0].container, undefined);
  assert.equal(needsDocker(configOf(text)), false);
  assert.equal(
    configOf(text, { LB_CONTAINER1: "stack-backend1" }).services[0].backends[0].container,
    "stack-backend1",
  );
});

Deno.test("parseConfig() turns discovery on from an environment string", () => {
  const text = `discovery: {docker: {enabled: "\${LB_DISCOVERY:-false}"}}\n${B}`;
  assert.equal(configOf(text).discovery.docker.enabled, false);
  assert.equal(configOf(text, { LB_DISCOVERY: "true" }).discovery.docker.enabled, true);
});

Deno.test("parseConfig() accepts empty or absent backends only with discovery enabled", () => {
  const on = "discovery: {docker: {enabled: true}}\n";
  assert.deepEqual(configOf(`${on}backends: []\n`).services[0].backends, []);
  assert.deepEqual(configOf(on).services[0].backends, []);
  const off = parse("discovery: {docker: {enabled: false}}\nbackends: []\n");
  assert.equal(off.ok, false);
  assert.match(
    off.ok ? "" : off.errors[0],
    /^config\.yml:2: backends: must list at least one backend \(or enable discovery\.docker to find them\)$/,
  );
  const absent = parse("discovery: {docker: {enabled: false}}\n");
  assert.match(absent.ok ? "" : absent.errors[0], /backends: is required.*or enable discovery\.docker/);
});

Deno.test("parseConfig() reads swarm mode with its poll interval and DNS fallback", () => {
  const c = configOf(
    `discovery:
  docker:
    enabled: true
    mode: "\${LB_DISCOVERY_MODE:-containers}"
    network: lb-net
    poll_interval: 2s
    dns_fallback:
      - {name: backend, port: 9001}
      - {name: lb_api.web, service: api}
services:
  default: {backends: []}
  api: {backends: []}
routes:
  - {match: {path_prefix: /api}, service: api}
  - service: default
`,
    { LB_DISCOVERY_MODE: "swarm" },
  );
  assert.equal(c.discovery.docker.mode, "swarm");
  assert.equal(c.discovery.docker.pollIntervalMs, 2_000);
  assert.deepEqual(c.discovery.docker.dnsFallback, [
    { name: "backend", port: 9001, service: "default" },
    { name: "lb_api.web", port: 80, service: "api" },
  ]);
  assert.equal(
    configOf(`discovery: {docker: {enabled: true, mode: swarm}}\n`).discovery.docker.pollIntervalMs,
    5_000,
  );
});

const SWARM = "discovery:\n  docker:\n    enabled: true\n    mode: swarm\n";

// [name, config text, expected error]
const INVALID: [string, string, RegExp][] = [
  ["discovery not a mapping", `discovery: docker\n${B}`, /^config\.yml:1: discovery: must be a mapping/],
  [
    "unknown discovery provider",
    `discovery: {kubernetes: {}}\n${B}`,
    /^config\.yml:1: discovery\.kubernetes: unknown key; expected one of docker/,
  ],
  [
    "unknown discovery.docker key",
    `discovery: {docker: {enable: true}}\n${B}`,
    /discovery\.docker\.enable: unknown key \(did you mean `enabled`\?\)/,
  ],
  [
    "non-boolean enabled",
    `discovery: {docker: {enabled: yes}}\n${B}`,
    /discovery\.docker\.enabled: must be true or false, got "yes"/,
  ],
  [
    "relative socket",
    `discovery: {docker: {socket: docker.sock}}\n${B}`,
    /discovery\.docker\.socket: must be an absolute path, got "docker\.sock"/,
  ],
  [
    "label with a space",
    `discovery: {docker: {label: "lb enable"}}\n${B}`,
    /discovery\.docker\.label: must be a label key or key=value without spaces, got "lb enable"/,
  ],
  [
    "port label with a value",
    `discovery: {docker: {port_label: "lb.port=80"}}\n${B}`,
    /discovery\.docker\.port_label: must be a label key without spaces, got "lb\.port=80"/,
  ],
  [
    "bad container name",
    `${B}    container: "/web 1"\n`,
    /^config\.yml:3: backends\[0\]\.container: must be a container name or id .*got "\/web 1"/,
  ],
  ["container not a string", `${B}    container: 12\n`, /backends\[0\]\.container: must be a string, got 12/],
  [
    "unknown mode",
    `discovery: {docker: {mode: kubernetes}}\n${B}`,
    /^config\.yml:1: discovery\.docker\.mode: must be containers or swarm, got "kubernetes"$/,
  ],
  [
    "poll_interval without swarm mode",
    `discovery:\n  docker:\n    enabled: true\n    poll_interval: 5s\n`,
    /^config\.yml:4: discovery\.docker\.poll_interval: applies only with mode: swarm$/,
  ],
  [
    "dns_fallback without swarm mode",
    `discovery: {docker: {dns_fallback: []}}\n${B}`,
    /^config\.yml:1: discovery\.docker\.dns_fallback: applies only with mode: swarm$/,
  ],
  [
    "a poll interval too short",
    `${SWARM}    poll_interval: 10ms\n`,
    /^config\.yml:5: discovery\.docker\.poll_interval: must be between 250ms and 24h, got "10ms"$/,
  ],
  [
    "a DNS fallback without a name",
    `${SWARM}    dns_fallback:\n      - {port: 9001}\n`,
    /^config\.yml:6: discovery\.docker\.dns_fallback\[0\]\.name: is required/,
  ],
  [
    "a DNS fallback port out of range",
    `${SWARM}    dns_fallback:\n      - {name: backend, port: 70000}\n`,
    /^config\.yml:6: discovery\.docker\.dns_fallback\[0\]\.port: must be a port \(1\.\.65535\), got 70000$/,
  ],
  [
    "a DNS fallback name with a space",
    `${SWARM}    dns_fallback:\n      - {name: "my backend"}\n`,
    /dns_fallback\[0\]\.name: must be a Swarm service name, got "my backend"$/,
  ],
  [
    "a DNS fallback listed twice",
    `${SWARM}    dns_fallback:\n      - {name: backend}\n      - {name: backend, port: 81}\n`,
    /^config\.yml:7: discovery\.docker\.dns_fallback\[1\]\.name: "backend" is listed twice$/,
  ],
  [
    "a DNS fallback key misspelt",
    `${SWARM}    dns_fallback:\n      - {name: backend, prot: 81}\n`,
    /dns_fallback\[0\]\.prot: unknown key \(did you mean `port`\?\)/,
  ],
  [
    "a DNS fallback into a service the config lacks",
    `${SWARM}    dns_fallback:\n      - {name: backend}\n      - {name: api, service: apii}\n` +
    "services:\n  default: {backends: []}\n  api: {backends: []}\n" +
    "routes:\n  - {match: {path_prefix: /api}, service: api}\n  - service: default\n",
    /^config\.yml:7: discovery\.docker\.dns_fallback\[1\]\.service: no such service "apii" \(services: default, api\)$/,
  ],
];

for (const [name, text, expected] of INVALID) {
  Deno.test(`parseConfig() rejects ${name} with the field path`, () => {
    const r = parse(text);
    const errors = r.ok ? [] : r.errors;
    assert.ok(
      errors.some((e) => expected.test(e)),
      `no error matched ${expected}; got:\n${errors.join("\n")}`,
    );
  });
}
