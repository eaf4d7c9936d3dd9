/**
 * Two proxy replicas discovering the same Swarm service through a manager's API (the fake in
 * tests/_util/fake_swarm.ts, whose tasks are real servers on loopback addresses): they list the
 * same backends, agree on where 1,000 keys go, still agree for every other key while one has a
 * backend drained, and lose no request while the service scales down and up under load.
 * scripts/e2e-swarm.sh runs the same checks on a real swarm.
 */

import assert from "node:assert/strict";
import { fakeManager, service, task } from "../_util/fake_swarm.ts";
import { startLbFrom, type TestLb, waitFor } from "../_util/harness.ts";
import { steadyLoad } from "../_util/load.ts";

const KEYS = 1_000;

/** One task's server: `/health`, and its own name on every other path. */
function taskServer(hostname: string, port: number, name: string): Deno.HttpServer {
  return Deno.serve({ hostname, port, onListen: () => {} }, (req) => {
    return new URL(req.url).pathname === "/health" ? new Response("ok") : new Response(name);
  });
}

/** Servers for slots 11.. on 127.0.0.<slot>, all on the same port, as a service's tasks are. */
function taskServers(slots: number[]) {
  const first = taskServer(`127.0.0.${slots[0]}`, 0, `slot${slots[0]}`);
  const port = (first.addr as Deno.NetAddr).port;
  const servers = new Map<number, Deno.HttpServer>([[slots[0], first]]);
  const start = (slot: number) => servers.set(slot, taskServer(`127.0.0.${slot}`, port, `slot${slot}`));
  for (const slot of slots.slice(1)) start(slot);
  return {
    port,
    start,
    stop: async (slot: number) => {
      await servers.get(slot)?.shutdown();
      servers.delete(slot);
    },
    close: () => Promise.all([...servers.values()].map((s) => s.shutdown())),
  };
}

const config = `
strategy: ip_hash
hash: {key: "header:X-Client-Id"}
expose_backend_header: true
# One process runs both replicas, the task servers and the clients: a loaded machine stalls it
# for a moment, which must not read as every backend failing its checks.
health_check: {interval: 100ms, timeout: 2s, healthy_threshold: 1, unhealthy_threshold: 3}
discovery:
  docker: {enabled: true, mode: swarm, label: lb.stack=demo, network: demo-net, poll_interval: 250ms}
`;

/** Backend name per key, as `lb` answers `X-Client-Id: key-<i>` (50 requests at a time). */
async function mapKeys(lb: TestLb, keys = KEYS): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < keys; i += 50) {
    const batch = Array.from({ length: 50 }, async (_, j) => {
      const r = await fetch(lb.url, { headers: { "x-client-id": `key-${i + j}` } });
      assert.equal(r.status, 200, await r.text());
      return r.headers.get("x-lb-backend")!;
    });
    out.push(...await Promise.all(batch));
  }
  return out;
}

/** Names of the healthy discovered backends, sorted. */
async function healthy(lb: TestLb): Promise<string[]> {
  const list = await (await fetch(`${lb.adminUrl}/api/backends`)).json() as { name: string; state: string }[];
  return list.filter((b) => b.state === "healthy").map((b) => b.name).sort();
}

Deno.test("two replicas on one swarm service agree on 1,000 keys and lose nothing while it scales", async () => {
  const manager = fakeManager();
  const servers = taskServers([11, 12, 13]);
  manager.state.services = [
    service("web", "demo_web", { "lb.stack": "demo", "lb.port": String(servers.port) }),
  ];
  const tasks = (slots: number[], leaving: number[] = []) => [
    ...slots.map((slot) => task("web", slot, "running", "running", "127.0.0")),
    ...leaving.map((slot) => task("web", slot, "running", "remove", "127.0.0")),
  ];
  manager.state.tasks = tasks([11, 12, 13]);
  const announce = () => {
    for (const stream of manager.state.streams) stream.write({ Type: "service", Action: "update" });
  };
  const replicas: TestLb[] = [];
  try {
    for (let i = 0; i < 2; i++) replicas.push(await startLbFrom(config, { docker: manager.api }));
    const [a, b] = replicas;
    const names = (slots: number[]) => slots.map((n) => `demo_web.${n}.task${String(n).padStart(21, "0")}`);
    const serving = async (slots: number[]) => {
      for (const lb of replicas) {
        await waitFor(
          async () => (await healthy(lb)).join() === names(slots).join(),
          5_000,
          `tasks ${slots}`,
        );
      }
    };
    await serving([11, 12, 13]);

    // Agreement: the same 1,000 keys through each replica.
    const onA = await mapKeys(a);
    const onB = await mapKeys(b);
    const agreed = onA.filter((name, i) => name === onB[i]).length;
    console.log(`agreement: ${agreed}/${KEYS} keys; per backend ${JSON.stringify(count(onA))}`);
    assert.equal(agreed, KEYS);
    assert.equal(Object.keys(count(onA)).length, 3, "keys spread over every backend");

    // Different health views: b has drained one backend, a has not.
    const drained = names([12])[0];
    const r = await fetch(`${b.adminUrl}/api/backends/${drained}/drain`, { method: "POST" });
    assert.equal(r.status, 200, await r.text());
    const drainedOnB = await mapKeys(b);
    for (let i = 0; i < KEYS; i++) {
      if (onA[i] === drained) assert.notEqual(drainedOnB[i], drained);
      else {assert.equal(
          drainedOnB[i],
          onA[i],
          `key-${i} of ${onA[i]} moved on the replica that drained another`,
        );}
    }
    await fetch(`${b.adminUrl}/api/backends/${drained}/enable`, { method: "POST" });

    // Scale 3 -> 2 under load: the task is marked for removal, then its server stops, as Swarm
    // does (SIGTERM after the update); then 2 -> 3 with a new task.
    const load = Promise.all(
      replicas.map((lb) =>
        steadyLoad(lb.url, {
          concurrency: 4,
          maxRequests: 4_000,
          maxMs: 3_000,
          headers: () => ({ "x-client-id": `key-${Math.floor(Math.random() * KEYS)}` }),
        })
      ),
    );
    await new Promise((r) => setTimeout(r, 500));
    manager.state.tasks = tasks([11, 12], [13]);
    announce();
    await new Promise((r) => setTimeout(r, 300));
    await servers.stop(13);
    manager.state.tasks = tasks([11, 12]);
    await new Promise((r) => setTimeout(r, 700));
    servers.start(14);
    manager.state.tasks = tasks([11, 12, 14]);
    announce();
    const results = await load;
    for (const [i, result] of results.entries()) {
      const ok = result.statuses.get(200) ?? 0;
      console.log(`replica ${i}: ${result.sent} sent, ${ok} answered 200, ${result.failures.length} failed`);
      assert.deepEqual(result.failures, []);
      assert.equal(ok, result.sent, JSON.stringify([...result.statuses]));
    }
    await serving([11, 12, 14]);
    assert.deepEqual(await mapKeys(a, 300), await mapKeys(b, 300), "they agree again after the scaling");
  } finally {
    for (const lb of replicas) await lb.shutdown();
    await servers.close();
  }
});

function count(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}
