import assert from "node:assert/strict";
import type { ServiceSummary, TaskSummary } from "../../../lib/docker/api.ts";
import type { SpecRules } from "../../../lib/docker/backend_spec.ts";
import { swarmBackends, taskName } from "../../../lib/docker/task_spec.ts";

/** Captured from Docker 20.10.24 (`GET /v1.41/services?filters=...` and `/tasks`), trimmed. */
const fixture = async <T>(name: string): Promise<T> =>
  JSON.parse(await Deno.readTextFile(new URL(`./fixtures/${name}`, import.meta.url)));
const SERVICES = await fixture<ServiceSummary[]>("swarm_services.json");
const TASKS = await fixture<TaskSummary[]>("swarm_tasks.json");
const NODE = "wlff8f5m2qf5i0bxn7ym14jxb";

const RULES: SpecRules = {
  label: "lb.enable",
  portLabel: "lb.port",
  weightLabel: "lb.weight",
  serviceLabel: "lb.service",
  defaultPort: 80,
  network: "swx-net",
};

/** A copy of the first captured task with some fields changed. */
function task(changes: Partial<TaskSummary> & { State?: string }): TaskSummary {
  const { State, ...rest } = changes;
  const base = structuredClone(TASKS[0]);
  return { ...base, ...rest, Status: { ...base.Status, ...(State ? { State } : {}) } };
}

Deno.test("swarmBackends() makes each running task of a labelled service a backend at its network address", () => {
  const { specs, skipped } = swarmBackends(SERVICES, TASKS, RULES, NODE);
  assert.deepEqual(skipped, []);
  assert.deepEqual(specs.map((s) => [s.service, s.name, s.url, s.weight]), [
    ["default", "swx_web.1.bhbrb2qvly4dg73l66vmfasmp", "http://10.0.2.2:8000", 1],
    ["default", "swx_web.2.lm0okd3mmfrwk7r57nndxamtc", "http://10.0.2.3:8000", 1],
    ["default", "swx_web.3.xi5xpwdhazj9feanzpa37hztp", "http://10.0.2.4:8000", 1],
  ]);
  // On this node: the container id, for stats. On another node: none, its stats are not here.
  assert.equal(specs[0].container, TASKS[0].Status.ContainerStatus?.ContainerID);
  assert.ok(swarmBackends(SERVICES, TASKS, RULES, "othernode").specs.every((s) => s.container === undefined));
});

Deno.test("swarmBackends() leaves out tasks that are starting, on their way out, or of unlabelled services", () => {
  const tasks = [
    task({ ID: "starting0000000000000000a", State: "starting" }),
    task({ ID: "leaving00000000000000000a", DesiredState: "shutdown" }),
    task({ ID: "scaleddown00000000000000a", DesiredState: "remove" }),
    task({ ID: "otherservice000000000000a", ServiceID: "other" }),
    task({ ID: "kept000000000000000000000" }),
  ];
  const other: ServiceSummary = { ID: "other", Spec: { Name: "swx_db", Labels: { "lb.enable": "false" } } };
  const { specs } = swarmBackends([...SERVICES, other], tasks, RULES, NODE);
  assert.deepEqual(specs.map((s) => s.name), ["swx_web.1.kept000000000000000000000"]);
});

Deno.test("swarmBackends() reads port, weight and service from the service's deploy labels", () => {
  const labels = { "lb.enable": "true", "lb.port": "9001", "lb.weight": "3", "lb.service": "api" };
  const service = { ...SERVICES[0], Spec: { ...SERVICES[0].Spec, Labels: labels } };
  const [spec] = swarmBackends([service], TASKS.slice(0, 1), RULES).specs;
  assert.deepEqual(spec, {
    service: "api",
    name: "swx_web.1.bhbrb2qvly4dg73l66vmfasmp",
    url: "http://10.0.2.2:9001",
    weight: 3,
  });
});

Deno.test("swarmBackends() says why a labelled service or task cannot be used", () => {
  const bad = {
    ...SERVICES[0],
    Spec: { ...SERVICES[0].Spec, Labels: { "lb.enable": "true", "lb.port": "web" } },
  };
  assert.deepEqual(swarmBackends([bad], TASKS, RULES).skipped, [
    'Cannot use swarm service "swx_web" as a backend: label lb.port must be a port 1-65535, current value is "web"',
  ]);
  const elsewhere = swarmBackends(SERVICES, TASKS.slice(0, 1), { ...RULES, network: "front" });
  assert.deepEqual(elsewhere.specs, []);
  assert.deepEqual(elsewhere.skipped, [
    'Cannot use task "swx_web.1.bhbrb2qvly4dg73l66vmfasmp" as a backend: it has no address on network "front" ' +
    "(attached to: swx-net)",
  ]);
});

Deno.test("swarmBackends() without a network takes the first non-ingress network by name", () => {
  const attachment = (name: string, address: string, ingress = false) => ({
    Network: { Spec: { Name: name, ...(ingress ? { Ingress: true } : {}) } },
    Addresses: [address],
  });
  const t = task({
    NetworksAttachments: [
      attachment("ingress", "10.0.0.9/24", true),
      attachment("zeta", "10.0.5.2/24"),
      attachment("alpha", "10.0.4.2/24"),
    ],
  });
  assert.equal(swarmBackends(SERVICES, [t], { ...RULES, network: "" }).specs[0].url, "http://10.0.4.2:8000");
  const onlyIngress = task({ NetworksAttachments: [attachment("ingress", "10.0.0.9/24", true)] });
  assert.match(
    swarmBackends(SERVICES, [onlyIngress], { ...RULES, network: "" }).skipped[0],
    /no network address/,
  );
});

Deno.test("taskName() is the task's container name: service, slot (or node for a global service), task id", () => {
  assert.equal(taskName(SERVICES[0], TASKS[1]), "swx_web.2.lm0okd3mmfrwk7r57nndxamtc");
  const { Slot: _, ...global } = TASKS[1];
  assert.equal(taskName(SERVICES[0], global), `swx_web.${NODE}.lm0okd3mmfrwk7r57nndxamtc`);
});
