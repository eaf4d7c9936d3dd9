import assert from "node:assert/strict";
import { memoryLogger } from "../../../lib/base/log.ts";
import { type ContainerScope, docker, dockerTest, relayDockerSocket, waitFor } from "../../_util/docker.ts";
import {
  type BackendSpec,
  createDockerDiscovery,
  type DiscoverySink,
  type DockerDiscovery,
  type DockerDiscoveryOptions,
} from "../../../lib/docker/discovery.ts";

const IDLE = ["sleep", "3600"];

/** A sink that keeps the current backends and every call, stamped with performance.now(). */
function recordingSink() {
  const backends = new Map<string, BackendSpec>();
  const calls: { op: "upsert" | "remove"; name: string; at: number }[] = [];
  const sink: DiscoverySink = {
    upsert(spec) {
      backends.set(spec.name, spec);
      calls.push({ op: "upsert", name: spec.name, at: performance.now() });
    },
    remove(spec) {
      backends.delete(spec.name);
      calls.push({ op: "remove", name: spec.name, at: performance.now() });
    },
  };
  return { sink, backends, calls };
}

/** Discovery on the real engine, closed with the scope. */
function discover(scope: ContainerScope, options: DockerDiscoveryOptions): DockerDiscovery {
  const discovery = createDockerDiscovery(options);
  scope.defer(() => discovery.close());
  return discovery;
}

async function containerIp(name: string): Promise<string> {
  return await docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name);
}

dockerTest(
  "createDockerDiscovery() follows labelled containers and ignores the rest",
  "discovery",
  async (scope) => {
    const enable = `lb-test.enable-${scope.id}`;
    const { sink, backends, calls } = recordingSink();
    const log = memoryLogger();
    const lines = log.lines;
    // Running before discovery starts: found by the initial listing.
    const early = await scope.run("early", ["--label", `${enable}=true`, "--label", "lb.port=8080"], IDLE);
    discover(scope, { sink, label: enable, log });
    await waitFor("the early container", () => backends.get(early), 5_000);
    assert.deepEqual(backends.get(early), {
      service: "default",
      name: early,
      url: `http://${await containerIp(early)}:8080`,
      weight: 1,
      container: early,
    });

    // Unlabelled (the enabling label has another value), then labelled: only the second may appear.
    const other = await scope.run("other", ["--label", `${enable}=false`], IDLE);
    const started = performance.now();
    const late = await scope.run("late", ["--label", `${enable}=true`, "--label", "lb.weight=3"], IDLE);
    const runReturned = performance.now();
    await waitFor("the late container", () => backends.get(late), 2_000, 10);
    const added = calls.find((c) => c.op === "upsert" && c.name === late)!.at;
    assert.equal(backends.get(late)?.url, `http://${await containerIp(late)}:80`);
    assert.equal(backends.get(late)?.weight, 3);

    await docker("stop", "-t", "0", late);
    const stopped = performance.now();
    await waitFor("the late container to leave", () => backends.has(late) ? undefined : true, 2_000, 10);
    const removed = calls.find((c) => c.op === "remove" && c.name === late)!.at;
    console.log(
      `added ${Math.round(added - runReturned)} ms after docker run returned (${
        Math.round(added - started)
      } ms ` +
        `after it was called); removed ${Math.round(removed - stopped)} ms after docker stop returned`,
    );

    assert.ok(!calls.some((c) => c.name === other), "a container without the enabling label must be ignored");
    assert.deepEqual([...backends.keys()], [early]);
    assert.deepEqual(lines, []);
  },
);

dockerTest(
  "createDockerDiscovery() logs a bad port label and skips the container",
  "discovery-bad",
  async (scope) => {
    const enable = `lb-test.enable-${scope.id}`;
    const { sink, calls } = recordingSink();
    const log = memoryLogger();
    const lines = log.lines;
    discover(scope, { sink, label: enable, log });
    const bad = await scope.run("bad", ["--label", `${enable}=true`, "--label", "lb.port=http"], IDLE);
    const line = await waitFor("a log line", () => lines[0], 2_000);
    assert.match(line, /^warn docker discovery: container skipped /);
    const { reason } = JSON.parse(line.slice(line.indexOf("{")));
    assert.match(
      reason,
      new RegExp(`container "${bad}".*lb\\.port must be a port 1-65535, current value is "http"`),
    );
    assert.deepEqual(calls, []);
  },
);

dockerTest(
  "createDockerDiscovery() puts a container in the service its lb.service label names",
  "discovery-service",
  async (scope) => {
    const enable = `lb-test.enable-${scope.id}`;
    const { sink, backends, calls } = recordingSink();
    const log = memoryLogger();
    const lines = log.lines;
    discover(scope, { sink, label: enable, log });
    const api = await scope.run("api", ["--label", `${enable}=true`, "--label", "lb.service=api"], IDLE);
    const plain = await scope.run("plain", ["--label", `${enable}=true`], IDLE);
    const bad = await scope.run("bad", ["--label", `${enable}=true`, "--label", "lb.service=Billing"], IDLE);
    await waitFor("both good containers", () => backends.has(api) && backends.has(plain) || undefined, 5_000);
    assert.deepEqual(backends.get(api), {
      service: "api",
      name: api,
      url: `http://${await containerIp(api)}:80`,
      weight: 1,
      container: api,
    });
    assert.equal(backends.get(plain)?.service, "default", "no label: the default service");
    const line = await waitFor(
      "the bad container's log line",
      () => lines.find((l) => l.includes(bad)),
      5_000,
    );
    assert.match(line, /^warn docker discovery: container skipped /);
    const { reason } = JSON.parse(line.slice(line.indexOf("{")));
    assert.equal(
      reason,
      `Cannot use container "${bad}" as a backend: label lb.service must be a service name ` +
        `([a-z0-9_.-]{1,64}), current value is "Billing"`,
    );
    assert.ok(
      !calls.some((c) => c.name === bad),
      "a container with a bad service label never reaches the sink",
    );
  },
);

dockerTest(
  "createDockerDiscovery() survives losing Docker and re-lists on reconnect",
  "discovery-outage",
  async (scope) => {
    const enable = `lb-test.enable-${scope.id}`;
    const dir = await Deno.makeTempDir();
    scope.defer(() => Deno.remove(dir, { recursive: true }));
    const socket = `${dir}/docker.sock`;
    const { sink, backends } = recordingSink();
    const log = memoryLogger();
    const lines = log.lines;
    const errors: Error[] = [];
    const options = { sink, socket, label: enable, backoff: { initialMs: 20, maxMs: 100 } };
    discover(scope, { ...options, log, onError: (e) => errors.push(e) });

    // Nothing listens on the socket yet.
    await waitFor("several failed attempts", () => errors.length >= 3 || undefined, 5_000);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0],
      new RegExp(`^warn docker discovery: cannot watch Docker.*"socket":"${socket}","error":`),
    );

    const first = await scope.run("first", ["--label", `${enable}=true`], IDLE);
    let relay = relayDockerSocket(socket);
    scope.defer(() => relay.close());
    await waitFor("the container, once Docker is reachable", () => backends.get(first), 5_000);
    assert.match(lines.at(-1)!, /^info docker discovery: reconnected .*"backends":1/);

    // Cut Docker off; while it is away the container goes and another comes.
    const failuresBefore = errors.length;
    await relay.close();
    await waitFor("a failure after the cut", () => errors.length > failuresBefore || undefined, 5_000);
    await docker("rm", "-f", first);
    const second = await scope.run("second", ["--label", `${enable}=true`], IDLE);
    relay = relayDockerSocket(socket);
    await waitFor(
      "the re-list to replace first by second",
      () => backends.has(second) && !backends.has(first) || undefined,
      5_000,
    );
    assert.deepEqual([...backends.keys()], [second]);
    // One line per outage and one per recovery.
    assert.equal(lines.filter((l) => l.includes("cannot watch Docker")).length, 2, lines.join("\n"));
  },
);
