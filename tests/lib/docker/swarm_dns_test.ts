import assert from "node:assert/strict";
import { resolveSwarmTasks, taskNameFromPtr, type TaskResolver } from "../../../lib/docker/swarm_dns.ts";

/** A resolver answering from tables, counting reverse lookups. */
function tableResolver(a: Record<string, string[]>, ptr: Record<string, string[]>) {
  const reverses: string[] = [];
  const resolver: TaskResolver = {
    addresses: (name) => Promise.resolve(a[name] ?? []),
    reverse: (ip) => {
      reverses.push(ip);
      return Promise.resolve(ptr[ip] ?? []);
    },
  };
  return { resolver, reverses };
}

const signal = new AbortController().signal;

Deno.test("taskNameFromPtr() takes the task's container name off Docker's reverse record", () => {
  // As Docker 20.10's embedded DNS answers for a task on the overlay network swx-net.
  assert.equal(
    taskNameFromPtr("swx_web.1.bhbrb2qvly4dg73l66vmfasmp.swx-net"),
    "swx_web.1.bhbrb2qvly4dg73l66vmfasmp",
  );
  assert.equal(
    taskNameFromPtr("swx_web.1.bhbrb2qvly4dg73l66vmfasmp.swx-net."),
    "swx_web.1.bhbrb2qvly4dg73l66vmfasmp",
  );
  assert.equal(
    taskNameFromPtr("mon_agent.wlff8f5m2qf5i0bxn7ym14jxb.lm0okd3mmfrwk7r57nndxamtc.mon.net"),
    "mon_agent.wlff8f5m2qf5i0bxn7ym14jxb.lm0okd3mmfrwk7r57nndxamtc",
  );
  assert.equal(taskNameFromPtr("web.example.org."), undefined);
});

Deno.test("resolveSwarmTasks() names each address of tasks.<name> by its task, asking once per address", async () => {
  const { resolver, reverses } = tableResolver(
    { "tasks.backend": ["10.0.2.4", "10.0.2.2"], "tasks.api": ["10.0.2.9"] },
    {
      "10.0.2.2": ["lb_backend.1.bhbrb2qvly4dg73l66vmfasmp.lb-net."],
      "10.0.2.4": ["lb_backend.3.xi5xpwdhazj9feanzpa37hztp.lb-net."],
      "10.0.2.9": ["lb_api.1.lm0okd3mmfrwk7r57nndxamtc.lb-net."],
    },
  );
  const names = new Map<string, string>();
  const targets = [{ name: "backend", port: 9001, service: "default" }, {
    name: "api",
    port: 80,
    service: "api",
  }];
  const first = await resolveSwarmTasks(targets, resolver, names, signal);
  assert.deepEqual(first.skipped, []);
  assert.deepEqual(first.specs, [
    {
      service: "default",
      name: "lb_backend.1.bhbrb2qvly4dg73l66vmfasmp",
      url: "http://10.0.2.2:9001",
      weight: 1,
    },
    {
      service: "default",
      name: "lb_backend.3.xi5xpwdhazj9feanzpa37hztp",
      url: "http://10.0.2.4:9001",
      weight: 1,
    },
    { service: "api", name: "lb_api.1.lm0okd3mmfrwk7r57nndxamtc", url: "http://10.0.2.9:80", weight: 1 },
  ]);
  assert.deepEqual(await resolveSwarmTasks(targets, resolver, names, signal), first);
  assert.equal(reverses.length, 3, "names are cached per address");
});

Deno.test("resolveSwarmTasks() names an address without a task record after the target, and says so", async () => {
  const { resolver } = tableResolver({ "tasks.backend": ["10.0.2.7"] }, {});
  const listing = await resolveSwarmTasks(
    [{ name: "backend", port: 80, service: "default" }],
    resolver,
    new Map(),
    signal,
  );
  assert.equal(listing.specs[0].name, "backend.10.0.2.7");
  assert.match(
    listing.skipped[0],
    /^Cannot name 10\.0\.2\.7 of tasks\.backend by its task: .*named backend\.10\.0\.2\.7/,
  );
});

Deno.test("resolveSwarmTasks() drops cached names of addresses gone, and fails on a DNS error", async () => {
  const answers: Record<string, string[]> = { "tasks.backend": ["10.0.2.2"] };
  const { resolver, reverses } = tableResolver(answers, { "10.0.2.2": ["a.1.bhbrb2qvly4dg73l66vmfasmp.n"] });
  const names = new Map<string, string>();
  const targets = [{ name: "backend", port: 80, service: "default" }];
  await resolveSwarmTasks(targets, resolver, names, signal);
  answers["tasks.backend"] = [];
  assert.deepEqual((await resolveSwarmTasks(targets, resolver, names, signal)).specs, []);
  assert.equal(names.size, 0);
  answers["tasks.backend"] = ["10.0.2.2"];
  await resolveSwarmTasks(targets, resolver, names, signal);
  assert.equal(reverses.length, 2, "a returning address is asked again: it may be another task's now");
  const broken: TaskResolver = { ...resolver, addresses: () => Promise.reject(new Error("timed out")) };
  await assert.rejects(resolveSwarmTasks(targets, broken, names, signal), /timed out/);
});
