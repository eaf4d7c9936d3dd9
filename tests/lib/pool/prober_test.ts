/**
 * `prequal` end to end on real sockets: the proxy probes real backends that report their load in
 * `Endpoint-Load-Metrics`, never beyond `max_probe_share`, and routes by the hot-cold rule.
 */

import assert from "node:assert/strict";
import { scrape, startLb, type TestLb, waitFor } from "../../_util/harness.ts";
import { mulberry32 } from "../../_util/prng.ts";

/** A backend whose `/health` reports a fixed load, counting the probes and checks it answers. */
interface ReportingBackend {
  readonly url: string;
  /** Served requests (not `/health`). */
  served: number;
  /** `/health` requests sent by the prober (`User-Agent: lb-prequal-probe`). */
  probes: number;
  close(): Promise<void>;
}

function reportingBackend(report: string | undefined, delayMs = 0): ReportingBackend {
  const counts = { served: 0, probes: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname === "/health") {
      if (req.headers.get("user-agent") === "lb-prequal-probe") counts.probes++;
      const headers: Record<string, string> = report === undefined ? {} : { "endpoint-load-metrics": report };
      return new Response("ok", { headers });
    }
    counts.served++;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    return new Response("served");
  });
  return Object.assign(counts, {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  });
}

/** `total` requests from `concurrency` sequential clients, every one answered 200. */
async function send(lb: TestLb, total: number, concurrency = 1): Promise<void> {
  let left = total;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) {
      const r = await fetch(lb.url);
      assert.equal(r.status, 200);
      await r.body?.cancel();
    }
  }));
}

const health = "health_check: {interval: 1s, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}";

Deno.test("prequal probes backends in the background and never beyond max_probe_share", async () => {
  const backends = [0, 1, 2].map((i) =>
    reportingBackend(`TEXT named_metrics.rif=${i}, named_metrics.latency_ms=5`)
  );
  // The rate asks for 3 probes per request; a 20% share allows 0.25.
  const lb = await startLb(
    backends.map((b) => b.url),
    `${health}\nstrategy: prequal\nprequal: {probe_rate: 3, max_probe_share: 0.2}`,
    { random: mulberry32(3) },
  );
  try {
    await send(lb, 200, 4);
    const prober = lb.service().prober;
    await waitFor(
      () => backends.reduce((n, b) => n + b.probes, 0) === prober.totals.sent,
      2_000,
      "probes answered",
    );
    const { requests, sent, skipped } = prober.totals;
    assert.equal(requests, 200);
    assert.ok(sent <= 0.25 * requests, `sent ${sent} probes for ${requests} requests`);
    assert.ok(sent >= 0.25 * requests - 2, `the budget, not something else, limited them: ${sent}`);
    assert.ok(sent / (sent + requests) <= 0.2, "probes are at most 20% of what backends received");
    assert.equal(skipped, 3 * requests - sent, "every probe asked for and not sent is counted");
    const m = await scrape(lb);
    const total = (name: string, filter: string) =>
      [...m].filter(([k]) => k.startsWith(name) && k.includes(filter)).reduce((n, [, v]) => n + v, 0);
    assert.equal(total("lb_probes_total{", 'result="success"'), sent);
    assert.equal(total("lb_probes_total{", 'result="failure"'), 0);
    assert.equal(m.get('lb_probes_skipped_total{service="default",reason="budget"}'), skipped);
    // Each answer's report is kept as the backend's latest.
    const api = await (await fetch(`${lb.adminUrl}/api/backends`)).json() as {
      name: string;
      load_report?: { named_metrics: Record<string, number>; age_ms: number };
    }[];
    assert.deepEqual(api.map((b) => b.load_report?.named_metrics.rif), [0, 1, 2]);
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});

Deno.test("prequal sends requests by the hot-cold rule on what the backends report", async () => {
  const backends = [
    reportingBackend("TEXT named_metrics.rif=0, named_metrics.latency_ms=30", 10), // cold, slower
    reportingBackend("TEXT named_metrics.rif=0, named_metrics.latency_ms=5", 10), // cold, fastest cold
    reportingBackend("TEXT named_metrics.rif=50, named_metrics.latency_ms=1", 10), // fastest, but hot
  ];
  const lb = await startLb(
    backends.map((b) => b.url),
    `${health}\nstrategy: prequal\nprequal: {probe_rate: 3, max_probe_share: 0.8, q_rif: 0.5}`,
    { random: mulberry32(5) },
  );
  try {
    await send(lb, 100);
    const [a, b, c] = backends.map((x) => x.served);
    assert.ok(c <= 3, `the hot backend got ${c} of 100 (only before answers arrived)`);
    assert.ok(b >= 80, `the fastest cold backend got ${b} of 100 (a ${a}, c ${c})`);
    // The pool shows what the picks read: answers with the reported RIF and latency.
    const api = await (await fetch(`${lb.adminUrl}/api/backends`)).json() as {
      probe?: { rif: number; latency_ms: number; uses_left: number };
    }[];
    const probes = api.map((x) => x.probe).filter((p) => p !== undefined);
    assert.ok(probes.length > 0, "the pool has answers");
    for (const p of probes) {
      assert.ok([0, 50].includes(p.rif) && [30, 5, 1].includes(p.latency_ms), JSON.stringify(p));
    }
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((x) => x.close()));
  }
});

Deno.test("prequal measures what a backend does not report: this proxy's in-flight count and the probe's time", async () => {
  const silent = reportingBackend(undefined, 300);
  const lb = await startLb(
    [silent.url],
    `${health}\nstrategy: prequal\nprequal: {probe_rate: 1, max_probe_share: 0.5}`,
  );
  try {
    // Two slow requests at once; their probe is answered while both are still in flight (a second
    // probe finds the first one still out, or a fresh answer, and the request bumps its RIF).
    const requests = send(lb, 2, 2);
    await waitFor(() => lb.service().prober.totals.requests === 2 && silent.probes >= 1, 2_000, "a probe");
    await waitFor(() => lb.service().probes.entry(lb.pool.all()[0])?.rif === 2, 1_000, "the answer");
    const entry = lb.service().probes.entry(lb.pool.all()[0])!;
    assert.ok(
      entry.latencyMs > 0 && entry.latencyMs < 250,
      `measured ${entry.latencyMs} ms, not the request's`,
    );
    await requests;
  } finally {
    await lb.shutdown();
    await silent.close();
  }
});

Deno.test("other strategies send no probes; switching away from prequal empties the pool", async () => {
  const backends = [0, 1].map(() => reportingBackend("TEXT named_metrics.rif=1"));
  const lb = await startLb(backends.map((b) => b.url), `${health}\nstrategy: round_robin`);
  try {
    await send(lb, 20);
    assert.equal(lb.service().prober.totals.sent, 0);
    lb.balancer.setStrategy("prequal");
    await send(lb, 20);
    await waitFor(() => lb.service().probes.size > 0, 2_000, "answers");
    lb.balancer.setStrategy("least_connections");
    assert.equal(lb.service().probes.size, 0);
    assert.ok(lb.pool.all().every((b) => b.probe === undefined));
    const sent = lb.service().prober.totals.sent;
    await send(lb, 20);
    assert.equal(lb.service().prober.totals.sent, sent, "no probes after the switch");
  } finally {
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
  }
});
