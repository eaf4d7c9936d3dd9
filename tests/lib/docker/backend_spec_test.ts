import assert from "node:assert/strict";
import type { ContainerInspect } from "../../../lib/docker/api.ts";
import {
  backendSpec,
  hasEnablingLabel,
  labelFilter,
  type SpecRules,
} from "../../../lib/docker/backend_spec.ts";

const rules: SpecRules = {
  label: "lb.enable",
  portLabel: "lb.port",
  weightLabel: "lb.weight",
  serviceLabel: "lb.service",
  defaultPort: 80,
  network: "",
};

function container(overrides: {
  labels?: Record<string, string>;
  running?: boolean;
  networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string }>;
} = {}): ContainerInspect {
  return {
    Id: "c0ffee",
    Name: "/web-1",
    State: { Running: overrides.running ?? true },
    Config: { Labels: overrides.labels ?? { "lb.enable": "true" } },
    HostConfig: { NetworkMode: "bridge" },
    NetworkSettings: { Networks: overrides.networks ?? { bridge: { IPAddress: "172.17.0.5" } } },
  };
}

Deno.test("labelFilter() reads a bare key as key=true", () => {
  assert.equal(labelFilter("lb.enable"), "lb.enable=true");
  assert.equal(labelFilter("team=web"), "team=web");
  assert.equal(hasEnablingLabel({ "lb.enable": "true" }, "lb.enable"), true);
  assert.equal(hasEnablingLabel({ "lb.enable": "false" }, "lb.enable"), false);
  assert.equal(hasEnablingLabel({ team: "web" }, "team=web"), true);
  assert.equal(hasEnablingLabel(null, "lb.enable"), false);
});

Deno.test("backendSpec() builds name, url, weight and container from labels and network", () => {
  assert.deepEqual(backendSpec(container(), rules), {
    ok: true,
    spec: { service: "default", name: "web-1", url: "http://172.17.0.5:80", weight: 1, container: "web-1" },
  });
  const labelled = container({ labels: { "lb.enable": "true", "lb.port": "8080", "lb.weight": "2.5" } });
  const result = backendSpec(labelled, rules);
  assert.ok(result.ok);
  assert.equal(result.spec.url, "http://172.17.0.5:8080");
  assert.equal(result.spec.weight, 2.5);
});

Deno.test("backendSpec() takes the address from the named network, else the first by name", () => {
  const networks = {
    zeta: { IPAddress: "10.0.9.2" },
    alpha: { IPAddress: "" },
    beta: { IPAddress: "10.0.2.2" },
  };
  const pick = (network: string) => {
    const result = backendSpec(container({ networks }), { ...rules, network });
    return result.ok ? result.spec.url : result.reason;
  };
  assert.equal(pick(""), "http://10.0.2.2:80");
  assert.equal(pick("zeta"), "http://10.0.9.2:80");
  assert.match(pick("alpha"), /no address on network "alpha" \(attached to: zeta, alpha, beta\)/);
  const v6 = backendSpec(container({ networks: { v6net: { GlobalIPv6Address: "fd00::5" } } }), rules);
  assert.equal(v6.ok && v6.spec.url, "http://[fd00::5]:80");
  const none = backendSpec(container({ networks: {} }), rules);
  assert.ok(!none.ok);
  assert.match(none.reason, /no network address \(network mode "bridge"\)/);
});

Deno.test("backendSpec() refuses containers without the label, stopped, or with bad labels", () => {
  const reason = (c: ContainerInspect) => {
    const result = backendSpec(c, rules);
    assert.ok(!result.ok);
    return result.reason;
  };
  assert.match(reason(container({ labels: {} })), /lacks label lb\.enable=true/);
  assert.match(reason(container({ running: false })), /is not running/);
  for (const port of ["0", "65536", "80.5", "http", ""]) {
    assert.match(
      reason(container({ labels: { "lb.enable": "true", "lb.port": port } })),
      /lb\.port must be a port/,
    );
  }
  for (const weight of ["0", "-1", "heavy", "Infinity"]) {
    const labels = { "lb.enable": "true", "lb.weight": weight };
    assert.match(reason(container({ labels })), /lb\.weight must be a positive number/);
  }
});

Deno.test("backendSpec() puts a container in the service its lb.service label names, default without one", () => {
  const service = (labels: Record<string, string>) => {
    const result = backendSpec(container({ labels: { "lb.enable": "true", ...labels } }), rules);
    assert.ok(result.ok, result.ok ? "" : result.reason);
    return result.spec;
  };
  assert.deepEqual(service({ "lb.service": "api" }), {
    service: "api",
    name: "web-1",
    url: "http://172.17.0.5:80",
    weight: 1,
    container: "web-1",
  });
  assert.equal(service({}).service, "default");
  assert.equal(service({ "lb.service": "shop_v2.eu-1" }).service, "shop_v2.eu-1");
  // The label read is the configured one, not a fixed lb.service.
  const custom = backendSpec(
    container({ labels: { "lb.enable": "true", "web.svc": "api", "lb.service": "other" } }),
    { ...rules, serviceLabel: "web.svc" },
  );
  assert.equal(custom.ok && custom.spec.service, "api");
});

Deno.test("backendSpec() refuses a container whose lb.service label is not a service name", () => {
  for (const value of ["API", "", "my service", "a/b", "x".repeat(65)]) {
    const result = backendSpec(container({ labels: { "lb.enable": "true", "lb.service": value } }), rules);
    assert.ok(!result.ok, `lb.service=${JSON.stringify(value)} accepted`);
    assert.equal(
      result.reason,
      `Cannot use container "web-1" as a backend: label lb.service must be a service name ` +
        `([a-z0-9_.-]{1,64}), current value is "${value}"`,
    );
  }
});
