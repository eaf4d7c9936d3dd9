import assert from "node:assert/strict";
import { buildProxyConfig, proxyConfigYaml } from "../../../demo/shared/proxy_config.ts";

const listeners = { listen: "127.0.0.1:0", adminListen: "127.0.0.1:0" };

Deno.test("buildProxyConfig() with backends gives one service named default and a catch-all route", () => {
  const built = buildProxyConfig({
    ...listeners,
    strategy: "peak_ewma",
    backends: [
      { name: "a", url: "http://127.0.0.1:9001", weight: 1 },
      { name: "b", url: "http://127.0.0.1:9002", weight: 3 },
    ],
  });
  assert.ok(built.ok, built.ok ? "" : built.errors.join("\n"));
  const { services, routes } = built.config;
  assert.deepEqual(services.map((s) => [s.name, s.strategy]), [["default", "peak_ewma"]]);
  assert.deepEqual(services[0].backends.map((b) => [b.name, b.url, b.weight]), [
    ["a", "http://127.0.0.1:9001", 1],
    ["b", "http://127.0.0.1:9002", 3],
  ]);
  assert.deepEqual(routes.map((r) => [r.match, r.targets]), [[{}, [{ service: "default", weight: 1 }]]]);
  assert.equal(built.config.exposeBackendHeader, true);
});

Deno.test("buildProxyConfig() with services and routes keeps the route order, the strip and each service's strategy", () => {
  const built = buildProxyConfig({
    ...listeners,
    strategy: "round_robin",
    services: [
      { name: "web", backends: [{ name: "w1", url: "http://127.0.0.1:9001", weight: 1 }] },
      {
        name: "api",
        strategy: "LeastConnections",
        backends: [{ name: "a1", url: "http://127.0.0.1:9101", weight: 2 }],
      },
    ],
    routes: [
      { pathPrefix: "/api", stripPrefix: true, service: "api" },
      { host: "api.localhost", service: "api" },
      { service: "web" },
    ],
  });
  assert.ok(built.ok, built.ok ? "" : built.errors.join("\n"));
  const { services, routes } = built.config;
  assert.deepEqual(services.map((s) => [s.name, s.strategy, s.backends.map((b) => b.name)]), [
    ["web", "round_robin", ["w1"]],
    ["api", "least_connections", ["a1"]],
  ]);
  assert.deepEqual(
    routes.map((r) => [r.match.pathPrefix, r.match.host === undefined, r.stripPrefix, r.targets[0].service]),
    [["/api", true, true, "api"], [undefined, false, false, "api"], [undefined, true, false, "web"]],
  );
});

Deno.test("proxyConfigYaml() quotes every name and URL, so a bad one is a config error, not a different file", () => {
  const yaml = proxyConfigYaml({
    ...listeners,
    strategy: "round_robin",
    backends: [{ name: 'a", weight: 99, x: "', url: "http://127.0.0.1:9001", weight: 1 }],
  });
  assert.match(yaml, /name: "a\\", weight: 99, x: \\""/);
  const built = buildProxyConfig({
    ...listeners,
    strategy: "round_robin",
    services: [{
      name: "web",
      backends: [{ name: 'a", weight: 99, x: "', url: "http://127.0.0.1:9001", weight: 1 }],
    }],
    routes: [{ service: "web" }],
  });
  assert.ok(!built.ok);
  assert.match(built.errors.join("\n"), /services\.web\.backends\[0\]\.name: .*weight: 99/);
});

Deno.test("buildProxyConfig() with tls gives a TLS listener on its address, the file paths as given (quoted) and h2 on", () => {
  const certFile = '/tmp/a dir/cert: "1".pem';
  const built = buildProxyConfig({
    ...listeners,
    strategy: "round_robin",
    backends: [{ name: "a", url: "http://127.0.0.1:9001", weight: 1 }],
    tls: { listen: "127.0.0.1:8443", certFile, keyFile: "/tmp/key.pem" },
  });
  assert.ok(built.ok, built.ok ? "" : built.errors.join("\n"));
  assert.deepEqual(built.config.tls, {
    listen: { hostname: "127.0.0.1", port: 8443 },
    certFile,
    keyFile: "/tmp/key.pem",
    certificates: [],
    http2: true,
    redirectHttp: false,
  });
  const without = buildProxyConfig({
    ...listeners,
    strategy: "round_robin",
    backends: [{ name: "a", url: "http://127.0.0.1:9001", weight: 1 }],
  });
  assert.ok(without.ok);
  assert.equal(without.config.tls, null);
});
