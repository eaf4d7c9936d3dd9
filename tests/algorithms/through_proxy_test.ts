/**
 * Every strategy end to end: the real proxy, three real backends on loopback, a short run, and
 * the share each backend actually served.
 */

import assert from "node:assert/strict";
import http from "node:http";
import { parseConfig } from "../../lib/config/config.ts";
import { memoryLogger } from "../../lib/base/log.ts";
import { type LoadBalancer, startLoadBalancer } from "../../lib/server/start.ts";
import { startBackend, type TestBackend, waitFor } from "../_util/harness.ts";
import { mulberry32 } from "../_util/prng.ts";

interface Setup {
  readonly lb: LoadBalancer;
  readonly url: string;
  readonly backends: TestBackend[];
  close(): Promise<void>;
}

/** Three backends named b0..b2 answering their own name, `delays[i]` ms late, behind the proxy. */
async function setup(strategy: string, weights: number[], delays = [0, 0, 0]): Promise<Setup> {
  const backends = delays.map((delay, i) =>
    startBackend(async () => {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      return new Response(`b${i}`);
    })
  );
  const list = backends.map((b, i) => `  - {name: b${i}, url: "${b.url}", weight: ${weights[i]}}`).join("\n");
  const parsed = parseConfig(
    `listen: "127.0.0.1:0"\nadmin: {listen: "127.0.0.1:0"}\nstrategy: ${strategy}\n` +
      `health_check: {interval: 100ms, timeout: 5s, healthy_threshold: 1, unhealthy_threshold: 1}\n` +
      `backends:\n${list}\n`,
  );
  if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
  const lb = await startLoadBalancer(parsed.config, {
    log: memoryLogger(),
    processMetrics: false,
    random: mulberry32(7),
  });
  return {
    lb,
    url: `http://127.0.0.1:${lb.proxyAddr.port}/`,
    backends,
    close: async () => {
      await lb.shutdown();
      await Promise.all(backends.map((b) => b.close()));
    },
  };
}

/** Send `total` requests from `concurrency` sequential clients; each backend's share of them. */
async function run(s: Setup, total: number, concurrency = 1): Promise<number[]> {
  let sent = 0;
  const client = async () => {
    while (sent < total) {
      sent++;
      const response = await fetch(s.url);
      assert.equal(response.status, 200);
      await response.text();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return s.backends.map((b) => b.seen.length / total);
}

const within = (shares: number[], expected: number[], tolerance: number) =>
  shares.every((share, i) => Math.abs(share - expected[i]) <= tolerance);

Deno.test("round_robin through the proxy serves three backends in equal turns", async () => {
  const s = await setup("round_robin", [3, 1, 1]);
  try {
    const shares = await run(s, 300);
    assert.deepEqual(s.backends.map((b) => b.seen.length), [100, 100, 100], `${shares}`);
  } finally {
    await s.close();
  }
});

// Smooth WRR is exact; random (seeded) converges: 1,200 draws put 3% at about 2.4 standard deviations.
for (const [strategy, total] of [["weighted_round_robin", 500], ["random", 1200]] as const) {
  Deno.test(`${strategy} through the proxy gives weights 3,1,1 a 60/20/20 split within 3%`, async () => {
    const s = await setup(strategy, [3, 1, 1]);
    try {
      const shares = await run(s, total);
      assert.ok(within(shares, [0.6, 0.2, 0.2], 0.03), `${shares}`);
    } finally {
      await s.close();
    }
  });
}

// Load-aware strategies: b0 answers in 200 ms, b1 and b2 at once, six clients in parallel.
// Round robin would send b0 a third of the requests; these must notice it is slow or busy. A busy
// machine adds its own delay to every answer, fast or slow, and so brings the slow backend's share
// towards a third; 200 ms keeps it far above what a loaded machine adds (60 ms did not: 0.13).
for (const strategy of ["least_connections", "power_of_two", "peak_ewma", "least_resources"]) {
  Deno.test(`${strategy} through the proxy sends little to a slow backend`, async () => {
    const s = await setup(strategy, [1, 1, 1], [200, 0, 0]);
    try {
      const shares = await run(s, 300, 6);
      assert.ok(shares[0] < 0.12 && shares[1] > 0.3 && shares[2] > 0.3, `${shares}`);
    } finally {
      await s.close();
    }
  });
}

/** GET through the proxy from source address `ip` (any of 127.0.0.0/8); the backend's name. */
function getFrom(url: string, ip: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { localAddress: ip, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

Deno.test("ip_hash through the proxy keeps each client on one backend across a health change", async () => {
  const s = await setup("ip_hash", [1, 1, 1]);
  const clients = Array.from({ length: 30 }, (_, i) => `127.0.0.${10 + i}`);
  const assign = async () => {
    const out: string[] = [];
    for (const ip of clients) {
      const first = await getFrom(s.url, ip);
      assert.equal(await getFrom(s.url, ip), first, `${ip} moved between two requests`);
      out.push(first);
    }
    return out;
  };
  try {
    const before = await assign();
    for (const name of ["b0", "b1", "b2"]) {
      assert.ok(before.includes(name), `${name} got no client: ${before}`);
    }
    s.backends[1].healthy = false;
    await waitFor(() => s.lb.pool.get("b1")?.state === "unhealthy", 3000, "b1 to fail its health check");
    const during = await assign();
    clients.forEach((ip, i) => {
      if (before[i] !== "b1") assert.equal(during[i], before[i], `${ip} moved although its backend stayed`);
      else assert.notEqual(during[i], "b1");
    });
    s.backends[1].healthy = true;
    await waitFor(() => s.lb.pool.get("b1")?.state === "healthy", 3000, "b1 to recover");
    assert.deepEqual(await assign(), before, "clients return to their backend");
  } finally {
    await s.close();
  }
});
