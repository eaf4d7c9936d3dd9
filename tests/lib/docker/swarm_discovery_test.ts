import assert from "node:assert/strict";
import { memoryLogger } from "../../../lib/base/log.ts";
import { connectDocker, type DockerApi, swarmApiUnavailable } from "../../../lib/docker/api.ts";
import type { BackendSpec, DiscoverySink } from "../../../lib/docker/discovery.ts";
import type { TaskResolver } from "../../../lib/docker/swarm_dns.ts";
import {
  createSwarmDiscovery,
  type SwarmDiscoveryOptions,
  type SwarmSource,
} from "../../../lib/docker/swarm_discovery.ts";
import { docker, dockerMissing, waitFor } from "../../_util/docker.ts";
import { fakeManager, service, task } from "../../_util/fake_swarm.ts";
import { gatedTest } from "../../_util/tools.ts";

const RULES = {
  label: "lb.stack=demo",
  portLabel: "lb.port",
  weightLabel: "lb.weight",
  serviceLabel: "lb.service",
  defaultPort: 80,
  network: "demo-net",
};

/** A sink that keeps the current backends by name and counts calls. */
function recordingSink() {
  const backends = new Map<string, BackendSpec>();
  const calls: string[] = [];
  const sink: DiscoverySink = {
    upsert(spec) {
      backends.set(spec.name, spec);
      calls.push(`+${spec.name}`);
    },
    remove(spec) {
      backends.delete(spec.name);
      calls.push(`-${spec.name}`);
    },
  };
  return { sink, backends, calls };
}

/** Discovery over `api`, closed at the end of `fn`; `synced` lists each listing's source. */
async function withDiscovery(
  options: Partial<SwarmDiscoveryOptions> & { docker: DockerApi },
  fn: (
    d: { sink: ReturnType<typeof recordingSink>; lines: string[]; synced: SwarmSource[] },
  ) => Promise<void>,
): Promise<void> {
  const sink = recordingSink();
  const log = memoryLogger();
  const synced: SwarmSource[] = [];
  const discovery = createSwarmDiscovery({
    sink: sink.sink,
    socket: "/var/run/docker.sock",
    rules: RULES,
    pollIntervalMs: 60_000,
    log,
    backoff: { initialMs: 10, maxMs: 50 },
    onSynced: (source) => synced.push(source),
    ...options,
  });
  try {
    await fn({ sink, lines: log.lines, synced });
  } finally {
    await discovery.close();
  }
}

const names = (backends: Map<string, BackendSpec>) => [...backends.keys()].sort();

Deno.test("createSwarmDiscovery() adds the running tasks of labelled services and follows a scale-up and down", async () => {
  const { state, api } = fakeManager();
  state.services = [service("web", "demo_web"), service("db", "demo_db", { "lb.stack": "other" })];
  state.tasks = [task("web", 1), task("web", 2), task("web", 3, "starting"), task("db", 4)];
  await withDiscovery({ docker: api }, async ({ sink, lines, synced }) => {
    await waitFor("the first listing", () => synced.length > 0 || undefined, 2_000);
    assert.deepEqual(names(sink.backends), [
      "demo_web.1.task000000000000000000001",
      "demo_web.2.task000000000000000000002",
    ]);
    assert.deepEqual(sink.backends.get("demo_web.1.task000000000000000000001"), {
      service: "default",
      name: "demo_web.1.task000000000000000000001",
      url: "http://10.0.9.1:80",
      weight: 1,
      container: "container1", // on this node; slot 2 runs on another
    });
    assert.equal(sink.backends.get("demo_web.2.task000000000000000000002")?.container, undefined);

    // Scale 2 -> 4: task 3 passes its health check, task 5 starts. No poll for a minute: the
    // service update event must bring the listing.
    state.tasks = [task("web", 1), task("web", 2), task("web", 3), task("web", 5)];
    const sent = performance.now();
    state.streams.at(-1)!.write({
      Type: "service",
      Action: "update",
      Actor: { Attributes: { name: "demo_web" } },
    });
    await waitFor("the scale-up", () => sink.backends.size === 4 || undefined, 2_000, 10);
    const tookMs = performance.now() - sent;
    assert.ok(tookMs < 1_000, `${tookMs} ms after the event`);

    // Scale 4 -> 1: the orchestrator marks tasks `remove` before their containers stop.
    state.tasks = [
      task("web", 1),
      task("web", 2, "running", "remove"),
      task("web", 3, "running", "shutdown"),
    ];
    state.streams.at(-1)!.write({
      Type: "container",
      Action: "die",
      Actor: { Attributes: { "com.docker.swarm.service.id": "web" } },
    });
    await waitFor("the scale-down", () => sink.backends.size === 1 || undefined, 2_000, 10);
    assert.deepEqual(sink.calls.filter((c) => c.startsWith("-")).length, 3);
    assert.deepEqual(lines, [], "nothing to complain about");
  });
});

Deno.test("createSwarmDiscovery() ignores events of other containers and lists again every poll interval", async () => {
  const { state, api } = fakeManager();
  state.services = [service("web", "demo_web", { "lb.stack": "demo", "lb.port": "9001" })];
  state.tasks = [task("web", 1)];
  await withDiscovery({ docker: api, pollIntervalMs: 300 }, async ({ sink, synced }) => {
    await waitFor("the first listing", () => synced.length > 0 || undefined, 2_000);
    const listings = state.listings;
    // A compose container's health check, a swarm container's exec: no listing.
    state.streams.at(-1)!.write({
      Type: "container",
      Action: "health_status: healthy",
      Actor: { Attributes: {} },
    });
    state.streams.at(-1)!.write({
      Type: "container",
      Action: "exec_start: wget -q http://127.0.0.1/",
      Actor: { Attributes: { "com.docker.swarm.service.id": "web" } },
    });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(state.listings, listings);
    // Changes with no event at all are found by the next poll.
    state.tasks = [task("web", 1), task("web", 2)];
    await waitFor("the poll", () => sink.backends.size === 2 || undefined, 2_000, 20);
    assert.equal(sink.backends.get("demo_web.2.task000000000000000000002")?.url, "http://10.0.9.2:9001");
  });
});

Deno.test("createSwarmDiscovery() keeps its backends while the API fails, with one line per failure streak", async () => {
  const { state, api } = fakeManager();
  state.services = [service("web", "demo_web")];
  state.tasks = [task("web", 1)];
  const errors: Error[] = [];
  await withDiscovery(
    { docker: api, pollIntervalMs: 250, onError: (e) => errors.push(e) },
    async ({ sink, lines, synced }) => {
      await waitFor("the first listing", () => synced.length > 0 || undefined, 2_000);
      state.failure = Object.assign(new Error("connect ENOENT /var/run/docker.sock"), { code: "ENOENT" });
      state.tasks = [];
      await waitFor("three failed rounds", () => errors.length >= 3 || undefined, 3_000, 20);
      assert.deepEqual(names(sink.backends), ["demo_web.1.task000000000000000000001"], "known backends stay");
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(
        lines[0],
        /^warn docker discovery: cannot list swarm services, retrying and keeping known backends/,
      );
      assert.match(
        lines[0],
        /"hint":"run on a manager node, or list services in discovery\.docker\.dns_fallback"/,
      );
      state.failure = undefined;
      await waitFor("the recovery", () => sink.backends.size === 0 || undefined, 2_000, 20);
      assert.match(lines[1], /^info docker discovery: listing swarm tasks through the API .*"backends":0/);
      assert.equal(lines.length, 2);
    },
  );
});

Deno.test("createSwarmDiscovery() on a node that is not a manager resolves tasks by DNS, saying so once", async () => {
  const { state, api } = fakeManager();
  state.failure = Object.assign(
    new Error('(HTTP code 503) unexpected - This node is not a swarm manager. Use "docker swarm init"'),
    { statusCode: 503 },
  );
  const answers: Record<string, string[]> = { "tasks.backend": ["10.0.9.1", "10.0.9.2"] };
  const resolver: TaskResolver = {
    addresses: (name) => Promise.resolve(answers[name] ?? []),
    reverse: (ip) =>
      Promise.resolve([`demo_backend.${ip.at(-1)}.task00000000000000000000${ip.at(-1)}.demo-net.`]),
  };
  const dnsFallback = [{ name: "backend", port: 9001, service: "default" }];
  await withDiscovery(
    { docker: api, pollIntervalMs: 250, dnsFallback, resolver },
    async ({ sink, lines, synced }) => {
      await waitFor("the DNS listing", () => sink.backends.size === 2 || undefined, 2_000, 20);
      assert.deepEqual(names(sink.backends), [
        "demo_backend.1.task000000000000000000001",
        "demo_backend.2.task000000000000000000002",
      ]);
      assert.equal(
        sink.backends.get("demo_backend.1.task000000000000000000001")?.url,
        "http://10.0.9.1:9001",
      );
      answers["tasks.backend"] = ["10.0.9.2"];
      await waitFor("a task gone from DNS", () => sink.backends.size === 1 || undefined, 2_000, 20);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(
        lines[0],
        /^warn docker discovery: no swarm API on this node; resolving tasks by DNS .*"names":"tasks\.backend"/,
      );
      assert.deepEqual(synced.filter((s) => s !== "dns"), []);

      // The node becomes a manager (or the socket appears): back to the API, in one line.
      state.failure = undefined;
      state.services = [service("backend", "demo_backend", { "lb.stack": "demo", "lb.port": "9001" })];
      state.tasks = [task("backend", 2), task("backend", 3)];
      await waitFor("the API listing", () => synced.at(-1) === "api" || undefined, 2_000, 20);
      assert.deepEqual(names(sink.backends), [
        "demo_backend.2.task000000000000000000002",
        "demo_backend.3.task000000000000000000003",
      ], "the same names by either way: task 2 stayed");
      assert.match(lines[1], /^info docker discovery: listing swarm tasks through the API/);
    },
  );
});

Deno.test("createSwarmDiscovery() logs a task it cannot use once while the problem lasts", async () => {
  const { state, api } = fakeManager();
  state.services = [service("web", "demo_web", { "lb.stack": "demo", "lb.port": "http" })];
  state.tasks = [task("web", 1)];
  await withDiscovery({ docker: api, pollIntervalMs: 250 }, async ({ sink, lines, synced }) => {
    await waitFor("three listings", () => synced.length >= 3 || undefined, 3_000, 20);
    assert.equal(sink.backends.size, 0);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /swarm task skipped.*swarm service \\"demo_web\\".*lb\.port must be a port/);
  });
});

gatedTest(
  "listServices() on the real engine: answered in a swarm, 503 outside one, which swarmApiUnavailable() recognises",
  dockerMissing,
  async () => {
    const inSwarm = (await docker("info", "--format", "{{.Swarm.LocalNodeState}}")) === "active";
    const api = connectDocker();
    if (inSwarm) {
      assert.ok(Array.isArray(await api.listServices({ filters: { label: ["lb-test.none=1"] } })));
      return;
    }
    const error = await api.listServices({ filters: { label: ["lb-test.none=1"] } }).then(
      () => assert.fail("an engine outside a swarm listed services"),
      (e: Error) => e,
    );
    assert.equal((error as { statusCode?: number }).statusCode, 503, error.message);
    assert.match(error.message, /not a swarm manager/);
    assert.equal(swarmApiUnavailable(error), true);
  },
);
