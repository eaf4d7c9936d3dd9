/**
 * Server-reported load through the real proxy: a backend's `Endpoint-Load-Metrics` header is kept
 * as its latest report (with its age on the injected clock), shown by the admin API and the
 * metrics, counted when invalid, and never reaches the client.
 */

import assert from "node:assert/strict";
import { scrape, startLb } from "../../_util/harness.ts";

interface BackendView {
  name: string;
  load_report?: {
    cpu_utilization?: number;
    named_metrics: Record<string, number>;
    age_ms: number;
  };
}

/** A backend answering every request (and `/health`) with whatever `headers` holds now. */
function backend(headers: Record<string, string>) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("hello", { headers: { "x-kept": "1", ...headers } }),
  );
  return { url: `http://127.0.0.1:${server.addr.port}`, headers, close: () => server.shutdown() };
}

async function view(adminUrl: string): Promise<BackendView> {
  return (await (await fetch(`${adminUrl}/api/backends`)).json() as BackendView[])[0];
}

Deno.test("a backend's load report is kept with its age, shown, and removed from the response", async () => {
  const b = backend({
    "endpoint-load-metrics": "TEXT cpu_utilization=0.25, named_metrics.queue=4",
    "endpoint-load-metrics-bin": "CQAAAAAAAOA/",
  });
  const clock = { offset: 0 };
  const lb = await startLb([b.url], "", { now: () => performance.now() + clock.offset });
  try {
    // The first health check's answer already carried a report.
    assert.deepEqual((await view(lb.adminUrl)).load_report?.named_metrics, { queue: 4 });
    const r = await fetch(lb.url);
    assert.equal(await r.text(), "hello");
    assert.equal(r.headers.get("x-kept"), "1");
    assert.equal(r.headers.get("endpoint-load-metrics"), null, "the report is for the proxy alone");
    assert.equal(r.headers.get("endpoint-load-metrics-bin"), null);
    const fresh = await view(lb.adminUrl);
    assert.equal(fresh.load_report?.cpu_utilization, 0.25);
    assert.ok(fresh.load_report!.age_ms < 1_000);
    clock.offset += 7_000;
    assert.ok((await view(lb.adminUrl)).load_report!.age_ms >= 7_000, "age follows the injected clock");
    const m = await scrape(lb);
    const labels = '{service="default",backend="b0"}';
    assert.equal(m.get(`lb_backend_reported_utilization${labels}`), 0.25);
    assert.ok(m.get(`lb_backend_report_age_seconds${labels}`)! >= 7);
    assert.ok(m.get('lb_load_reports_total{service="default",backend="b0",result="valid"}')! >= 2);
    assert.equal(m.get('lb_load_reports_total{service="default",backend="b0",result="invalid"}'), 0);
  } finally {
    await lb.shutdown();
    await b.close();
  }
});

Deno.test("an invalid load report is ignored and counted; the previous report stays", async () => {
  const b = backend({ "endpoint-load-metrics": "TEXT application_utilization=0.5, cpu_utilization=0.1" });
  // Checks far apart, so only the requests below meet the invalid headers.
  const lb = await startLb([b.url], "health_check: {interval: 1m}");
  try {
    await (await fetch(lb.url)).text();
    b.headers["endpoint-load-metrics"] = "TEXT cpu_utilization=0.9, cpu_utilization=0.8";
    const r = await fetch(lb.url);
    await r.text();
    assert.equal(r.status, 200, "a bad report never fails the request");
    assert.equal(r.headers.get("endpoint-load-metrics"), null);
    b.headers["endpoint-load-metrics"] = "JSON {}";
    await (await fetch(lb.url)).text();
    const report = (await view(lb.adminUrl)).load_report;
    assert.equal(report?.cpu_utilization, 0.1, "the last valid report stays");
    const m = await scrape(lb);
    assert.equal(m.get('lb_load_reports_total{service="default",backend="b0",result="invalid"}'), 2);
    assert.equal(
      m.get('lb_backend_reported_utilization{service="default",backend="b0"}'),
      0.5,
      "application_utilization, when positive, is the utilization",
    );
  } finally {
    await lb.shutdown();
    await b.close();
  }
});
