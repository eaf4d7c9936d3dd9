import assert from "node:assert/strict";
import { connectDocker } from "../../../lib/docker/api.ts";
import { engineUnreachable } from "../../../lib/docker/api.ts";
import { dockerTest, relayDockerSocket, waitFor as waitForValue } from "../../_util/docker.ts";
import { scrape, startBackend, startLb, waitFor } from "../../_util/harness.ts";

/** The error a real engine call fails with. */
async function failure(call: () => Promise<unknown>): Promise<Error> {
  try {
    await call();
  } catch (error) {
    return error as Error;
  }
  throw new Error("the call succeeded");
}

Deno.test("engineUnreachable() is true for a missing or refusing socket", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await failure(() => connectDocker(`${dir}/missing.sock`).info());
    assert.equal(engineUnreachable(missing), true, missing.message);
    await Deno.writeTextFile(`${dir}/file.sock`, "");
    const refused = await failure(() => connectDocker(`${dir}/file.sock`).info());
    assert.equal(engineUnreachable(refused), true, refused.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

dockerTest(
  "engineUnreachable() is false when the engine answers with an error status",
  "unreach",
  async (scope) => {
    const gone = await failure(() => connectDocker().getContainer(scope.name("never-created")).inspect());
    assert.match(gone.message, /404/);
    assert.equal(engineUnreachable(gone), false);
  },
);

Deno.test("startLoadBalancer() never talks to Docker when no backend names a container and discovery is off", async () => {
  const a = startBackend(() => new Response("a"));
  const lb = await startLb([a.url], "strategy: least_resources");
  try {
    assert.equal(await (await fetch(lb.url)).text(), "a");
    const text = await (await fetch(`${lb.adminUrl}/metrics`)).text();
    assert.doesNotMatch(text, /lb_docker_|lb_backend_cpu_ratio/);
    assert.ok(!lb.logLines.some((l) => /^\w+ docker[: ]/.test(l)), lb.logLines.join("\n"));
    assert.ok(lb.logLines.some((l) => l.startsWith("warn least_resources has no container stats")));
  } finally {
    await lb.shutdown();
    await a.close();
  }
});

Deno.test("startLoadBalancer() keeps serving when the Docker socket is missing, and says so", async () => {
  const a = startBackend(() => new Response("a"));
  const dir = await Deno.makeTempDir();
  const started = performance.now();
  const lb = await startLb(
    [a.url],
    `discovery: {docker: {enabled: true, socket: "${dir}/docker.sock", label: lb-test.never}}`,
    { discoveryWaitMs: 300 },
  );
  try {
    assert.ok(performance.now() - started < 3_000, "startup waits for discovery only briefly");
    assert.equal(await (await fetch(lb.url)).text(), "a");
    const m = await scrape(lb);
    assert.equal(m.get("lb_docker_up"), 0);
    assert.ok(m.get('lb_docker_errors_total{component="discovery"}')! >= 1);
    assert.equal(m.get('lb_docker_errors_total{component="stats"}'), 0);
    const lines = lb.logLines.filter((l) => l.includes("docker"));
    assert.match(lines.join("\n"), /warn docker discovery: cannot watch Docker.*ENOENT/);
    assert.match(lines.join("\n"), /warn docker discovery: nothing listed yet/);
  } finally {
    await lb.shutdown();
    await a.close();
    await Deno.remove(dir, { recursive: true });
  }
});

dockerTest(
  "startLoadBalancer() reports Docker down while the engine is cut off and up after it returns",
  "docker-up",
  async (scope) => {
    const dir = await Deno.makeTempDir();
    scope.defer(() => Deno.remove(dir, { recursive: true }));
    const socket = `${dir}/docker.sock`;
    let relay = relayDockerSocket(socket);
    scope.defer(() => relay.close());
    const a = startBackend(() => new Response("a"));
    scope.defer(() => a.close());
    const lb = await startLb(
      [a.url],
      `discovery: {docker: {enabled: true, socket: "${socket}", label: "lb-test.enable-${scope.id}"}}`,
    );
    scope.defer(() => lb.shutdown());
    assert.equal((await scrape(lb)).get("lb_docker_up"), 1, "synced before the listener opened");

    await relay.close();
    await waitFor(async () => (await scrape(lb)).get("lb_docker_up") === 0, 5_000, "lb_docker_up 0");
    assert.equal(await (await fetch(lb.url)).text(), "a", "still serving the configured backend");
    const errors = (await scrape(lb)).get('lb_docker_errors_total{component="discovery"}')!;
    assert.ok(errors >= 1);

    relay = relayDockerSocket(socket);
    const back = performance.now();
    await waitForValue(
      "lb_docker_up back to 1",
      async () => (await scrape(lb)).get("lb_docker_up") === 1 || undefined,
      10_000,
    );
    console.log(`discovery reconnected ${Math.round(performance.now() - back)} ms after the engine returned`);
    assert.ok(lb.logLines.some((l) => l.startsWith("info docker discovery: reconnected")));
  },
);
