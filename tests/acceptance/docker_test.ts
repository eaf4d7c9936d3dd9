/**
 * The Docker integration through the real proxy on the real engine: `least_resources` fed by
 * container stats, and discovery with the permissions of `deno task start`.
 *
 * The containers are busybox `httpd` servers the tests create (one also burning a CPU); traffic
 * goes only to them and to loopback.
 */

import assert from "node:assert/strict";
import { type ContainerScope, docker, dockerTest, waitFor } from "../_util/docker.ts";
import { nodeRequest, scrape, startLb, type TestLb } from "../_util/harness.ts";
import { spawnLb, startTaskPermissions } from "../_util/process.ts";

/** A busybox httpd on port 80 answering `/` with `name` and `/health` with "ok"; optionally busy. */
function httpd(name: string, burn = false): string[] {
  const burner = burn ? "(while :; do :; done) & " : "";
  const www = `mkdir -p /www && echo ${name} > /www/index.html && echo ok > /www/health`;
  return ["sh", "-c", `${burner}${www} && exec httpd -f -p 80 -h /www`];
}

/** The container's address; says why when it has none (e.g. it exited). */
async function containerIp(name: string): Promise<string> {
  const format = "{{.State.Status}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}";
  const [state, ip] = (await docker("inspect", "-f", format, name)).split(" ");
  if (ip) return ip;
  throw new Error(`container ${name} has no address (state ${state}); logs:\n${await docker("logs", name)}`);
}

/** Send `total` GETs, `concurrency` at a time; count the answers by `X-LB-Backend`. */
async function shares(lb: TestLb, total: number, concurrency: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const r = await fetch(lb.url, { signal: AbortSignal.timeout(5_000) });
      await r.body?.cancel();
      assert.equal(r.status, 200);
      const backend = r.headers.get("x-lb-backend") ?? "?";
      counts.set(backend, (counts.get(backend) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return counts;
}

async function startPair(scope: ContainerScope) {
  const idle = await scope.run("idle", [], httpd("idle"));
  // Half a CPU, all of it taken by the loop: it scores near 1 against its own allowance even when
  // other work on the machine competes for the CPUs.
  const busy = await scope.run("busy", ["--cpus", "0.5"], httpd("busy", true));
  return { idle, busy, idleIp: await containerIp(idle), busyIp: await containerIp(busy) };
}

/** The pair behind a proxy with `workers` isolates; both CPU samples present before it returns. */
async function pairBehind(scope: ContainerScope, workers: number, extra = ""): Promise<TestLb> {
  const { idle, busy, idleIp, busyIp } = await startPair(scope);
  const lb = await startLb(
    [
      { url: `http://${idleIp}:80`, fields: `container: ${idle}` },
      { url: `http://${busyIp}:80`, fields: `container: ${busy}` },
    ],
    `expose_backend_header: true\nworkers: ${workers}\n${extra}`,
  );
  scope.defer(() => lb.shutdown());
  // b0 is the idle container, b1 the busy one.
  await waitFor(
    "CPU samples for both containers",
    async () => {
      const m = await scrape(lb);
      const b0 = m.get('lb_backend_cpu_ratio{service="default",backend="b0"}');
      const b1 = m.get('lb_backend_cpu_ratio{service="default",backend="b1"}');
      return b0 !== undefined && b1 !== undefined && b1 > b0 + 0.05 ? { b0, b1 } : undefined;
    },
    15_000,
    200,
  );
  return lb;
}

dockerTest(
  "least_resources sends most traffic to the idle container after a live switch",
  "least-resources",
  async (scope) => {
    const lb = await pairBehind(scope, 1);

    const before = await shares(lb, 200, 4);
    const put = await fetch(`${lb.adminUrl}/api/strategy`, {
      method: "PUT",
      body: JSON.stringify({ strategy: "least_resources" }),
    });
    assert.equal(put.status, 200);
    const after = await shares(lb, 400, 2);
    const m = await scrape(lb);
    const share = (counts: Map<string, number>) =>
      (counts.get("b0") ?? 0) / [...counts.values()].reduce((a, b) => a + b);
    console.log(
      `cpu ratio idle ${m.get('lb_backend_cpu_ratio{service="default",backend="b0"}')?.toFixed(3)}, busy ${
        m.get('lb_backend_cpu_ratio{service="default",backend="b1"}')?.toFixed(3)
      }; idle share: round_robin ${share(before).toFixed(3)}, least_resources ${share(after).toFixed(3)}`,
    );
    assert.ok(Math.abs(share(before) - 0.5) < 0.05, `round robin splits evenly, got ${share(before)}`);
    assert.ok(share(after) > 0.75, `least_resources should favour the idle container, got ${share(after)}`);
  },
);

dockerTest(
  "least_resources with workers: 2 favours the idle container in every worker, from the owner's samples",
  "least-resources-workers",
  async (scope) => {
    // A probe lost on a busy machine must not take both containers out mid-count.
    const lb = await pairBehind(
      scope,
      2,
      "health_check: {interval: 200ms, timeout: 2s, unhealthy_threshold: 3}",
    );
    const put = await fetch(`${lb.adminUrl}/api/strategy`, {
      method: "PUT",
      body: JSON.stringify({ strategy: "least_resources" }),
    });
    assert.equal(put.status, 200);
    // Only the owner reads container stats; workers get its samples every second.
    await new Promise((r) => setTimeout(r, 1_500));
    const counts = new Map<string, number>();
    const served = async () =>
      ((await (await fetch(`${lb.adminUrl}/api/workers`)).json()) as { requests: number }[]).map((w) =>
        w.requests
      );
    const before = await served();
    for (let i = 0; i < 200; i++) {
      const r = await nodeRequest(lb.url); // a fresh connection each: both workers accept some
      assert.equal(r.status, 200, `${new TextDecoder().decode(r.body)}\n${lb.logLines.join("\n")}`);
      const backend = r.header("x-lb-backend") ?? "?";
      counts.set(backend, (counts.get(backend) ?? 0) + 1);
    }
    const after = await served();
    assert.ok(after.every((n, i) => n - before[i] >= 30), `both workers served: ${before} -> ${after}`);
    const idle = (counts.get("b0") ?? 0) / 200;
    assert.ok(idle > 0.75, `least_resources in both workers should favour the idle container, got ${idle}`);
  },
);

dockerTest(
  "discovery adds a labelled container within 2 s, routes to it after its check and removes it on stop",
  "discovery-proxy",
  async (scope) => {
    const label = `lb-test.enable-${scope.id}`;
    const lb = await spawnLb(
      `listen: "127.0.0.1:0"
admin: {listen: "127.0.0.1:0"}
health_check: {interval: 200ms, timeout: 1s, healthy_threshold: 1, unhealthy_threshold: 1}
expose_backend_header: true
discovery: {docker: {enabled: true, label: "${label}"}}
`,
      startTaskPermissions(),
    );
    scope.defer(() => lb.cleanup());
    const backends = async () =>
      (await (await fetch(`${lb.adminUrl}/api/backends`)).json()) as { name: string; state: string }[];
    assert.deepEqual(await backends(), [], "no static backends, nothing labelled yet");
    assert.equal((await fetch(lb.url)).status, 503);

    const ignored = await scope.run("ignored", ["--label", `${label}=false`], httpd("ignored"));
    const web = await scope.run("web", ["--label", `${label}=true`, "--label", "lb.port=80"], httpd("web"));
    const started = performance.now();
    await waitFor(
      "the labelled container in the pool",
      async () => {
        return (await backends()).some((b) => b.name === web) || undefined;
      },
      2_000,
      20,
    );
    const added = performance.now() - started;
    const body = await waitFor(
      "a response from the discovered container",
      async () => {
        const r = await fetch(lb.url);
        const text = await r.text();
        return r.status === 200 ? text : undefined;
      },
      5_000,
      50,
    );
    const served = performance.now() - started;
    assert.equal(body.trim(), "web");
    assert.deepEqual((await backends()).map((b) => b.name), [web], `${ignored} must be ignored`);

    await docker("stop", "-t", "1", web);
    const stopped = performance.now();
    await waitFor(
      "the stopped container to leave",
      async () => {
        return (await backends()).length === 0 || undefined;
      },
      2_000,
      20,
    );
    console.log(
      `discovered ${Math.round(added)} ms after docker run returned, served after ${
        Math.round(served)
      } ms, ` +
        `removed ${Math.round(performance.now() - stopped)} ms after docker stop returned`,
    );
    assert.equal((await fetch(lb.url)).status, 503);
    assert.ok(lb.log.some((l) => l.includes("backend discovered") && l.includes(web)));
    assert.ok(!lb.log.some((l) => l.includes(ignored)));
  },
);
