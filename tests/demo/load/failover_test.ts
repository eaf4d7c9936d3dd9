import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { resolveTargets } from "../../../demo/load/failover.ts";
import { runLoad } from "../../../demo/load/load.ts";

Deno.test("resolveTargets() takes the name's addresses in turn, each with the next one for a retry", async () => {
  const targets = await resolveTargets(
    "http://lb:8080/x?y=1",
    60_000,
    () => Promise.resolve(["10.0.3.6", "10.0.3.5"]),
  );
  try {
    deepEqual(targets.next(), ["http://10.0.3.5:8080/x?y=1", "http://10.0.3.6:8080/x?y=1"]);
    deepEqual(targets.next(), ["http://10.0.3.6:8080/x?y=1", "http://10.0.3.5:8080/x?y=1"]);
    deepEqual(targets.next()[0], "http://10.0.3.5:8080/x?y=1");
  } finally {
    await targets.close();
  }
});

Deno.test("resolveTargets() follows the name's answers, keeping the last good one through failures", async () => {
  const answers: (string[] | Error)[] = [
    ["10.0.3.5", "10.0.3.6"],
    ["10.0.3.6", "10.0.3.7"],
    new Error("timeout"),
    [],
  ];
  let asked = 0;
  const resolve = () => {
    const answer = answers[Math.min(asked++, answers.length - 1)];
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  const targets = await resolveTargets("http://lb:8080/", 20, resolve);
  try {
    while (asked < 2) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 5));
    const seen = new Set([targets.next()[0], targets.next()[0]]);
    deepEqual([...seen].sort(), ["http://10.0.3.6:8080/", "http://10.0.3.7:8080/"]);
    while (asked < 6) await new Promise((r) => setTimeout(r, 5));
    deepEqual(
      new Set([targets.next()[0], targets.next()[0]]),
      seen,
      "a failure or an empty answer changes nothing",
    );
  } finally {
    await targets.close();
  }
  const literal = await resolveTargets(
    "http://127.0.0.1:9/",
    20,
    () => Promise.reject(new Error("never asked")),
  );
  deepEqual(literal.next(), ["http://127.0.0.1:9/", "http://127.0.0.1:9/"]);
  await literal.close();
  await rejects(resolveTargets("http://lb:8080/", 20, () => Promise.resolve([])), /lb has no address/);
});

/** Two "replicas" on 127.0.0.21 and .22, one port; each answers with its address. */
function replicas() {
  const serve = (hostname: string, port: number, status = () => 200) =>
    Deno.serve({ hostname, port, onListen() {} }, () => new Response(hostname, { status: status() }));
  const first = serve("127.0.0.21", 0);
  const port = first.addr.port;
  const state = { secondStatus: 200 };
  const second = serve("127.0.0.22", port, () => state.secondStatus);
  return { port, first, second, state, url: `http://lb.test:${port}/` };
}

const resolve = () => Promise.resolve(["127.0.0.21", "127.0.0.22"]);

Deno.test("runLoad() with failover survives one of two replicas dying, and counts the retries", async () => {
  const r = replicas();
  try {
    const run = runLoad(
      { url: r.url, clients: 4, rate: 50, durationMs: 2_000, seed: 5, failover: true, attemptTimeoutMs: 500 },
      { resolve },
    );
    await new Promise((resolve) => setTimeout(resolve, 700));
    await r.first.shutdown(); // the name still lists it: every request sent there is retried
    const s = await run;
    equal(s.failed, 0, JSON.stringify(s.errors));
    deepEqual(Object.keys(s.statuses), ["200"]);
    equal(s.completed, s.sent);
    ok(s.retries.total > 50, `${s.retries.total} retried`);
    equal(s.retries.recovered, s.retries.total);
    ok((s.retries.reasons.connect ?? 0) > 0, JSON.stringify(s.retries.reasons));
    const answered = s.addresses;
    ok(
      answered[`127.0.0.21:${r.port}`] > 50 && answered[`127.0.0.22:${r.port}`] > 200,
      JSON.stringify(answered),
    );
  } finally {
    await r.second.shutdown();
    await r.first.shutdown().catch(() => {});
  }
});

Deno.test("runLoad() with failover retries a 503 elsewhere, but never a POST", async () => {
  const r = replicas();
  r.state.secondStatus = 503;
  try {
    const get = await runLoad(
      { url: r.url, clients: 2, rate: 50, requests: 100, seed: 6, failover: true },
      { resolve },
    );
    deepEqual(get.statuses, { "200": 100 });
    equal(get.retries.total, 50);
    deepEqual(get.retries.reasons, { "503": 50 });
    const post = await runLoad(
      { url: r.url, clients: 2, rate: 50, requests: 100, seed: 6, failover: true, method: "POST" },
      { resolve },
    );
    deepEqual(post.statuses, { "200": 50, "503": 50 });
    equal(post.retries.total, 0);
  } finally {
    await Promise.all([r.first.shutdown(), r.second.shutdown()]);
  }
});

Deno.test("runLoad() sends each client's address in --client-header", async () => {
  const seen = new Set<string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.add(req.headers.get("x-client-id") ?? "none");
    return new Response("ok");
  });
  try {
    await runLoad({
      url: `http://127.0.0.1:${server.addr.port}/`,
      clients: 3,
      rate: 20,
      requests: 30,
      seed: 7,
      clientHeader: "x-client-id",
    });
    equal(seen.size, 3);
    ok([...seen].every((a) => a.startsWith("203.0.113.")), [...seen].join());
  } finally {
    await server.shutdown();
  }
});
