import assert from "node:assert/strict";
import {
  formatLoadReport,
  loadReportHeader,
  parseLoadReport,
  reportedUtilization,
} from "../../../lib/upstream/mod.ts";

function report(value: string) {
  const r = parseLoadReport(value);
  if (!r.ok) throw new Error(r.error);
  return r.report;
}

function error(value: string): string {
  const r = parseLoadReport(value);
  assert.equal(r.ok, false, `${value} is refused`);
  return r.ok ? "" : r.error;
}

Deno.test("parseLoadReport() reads the issue's example and every field Envoy reads", () => {
  assert.deepEqual(report("TEXT cpu_utilization=0.3, rps_fractional=120, named_metrics.queue=4"), {
    cpuUtilization: 0.3,
    rpsFractional: 120,
    namedMetrics: { queue: 4 },
    utilization: {},
  });
  // Envoy's own test vector, with ':' as it also accepts.
  for (const sep of ["=", ":"]) {
    const text = "TEXT cpu_utilization=0.7,application_utilization=0.8,mem_utilization=0.9," +
      "rps_fractional=1000,eps=2,named_metrics.foo=123,named_metrics.bar=0.2,utilization.total=0.5";
    assert.deepEqual(report(text.replaceAll("=", sep)), {
      cpuUtilization: 0.7,
      applicationUtilization: 0.8,
      memUtilization: 0.9,
      rpsFractional: 1000,
      eps: 2,
      namedMetrics: { foo: 123, bar: 0.2 },
      utilization: { total: 0.5 },
    });
  }
});

Deno.test("parseLoadReport() accepts spaces around entries, empty list elements and exponents", () => {
  assert.deepEqual(report("TEXT  cpu_utilization = 1e-1 ,, named_metrics.rif=0 ,"), {
    cpuUtilization: 0.1,
    namedMetrics: { rif: 0 },
    utilization: {},
  });
  assert.deepEqual(report("TEXT "), { namedMetrics: {}, utilization: {} });
});

Deno.test("parseLoadReport() refuses what Envoy refuses, with one line naming the problem", () => {
  assert.match(error('JSON {"cpu_utilization": 0.3}'), /unsupported ORCA format "JSON"/);
  assert.match(error("BIN CQAAAAAAAOA/"), /unsupported ORCA format "BIN"/);
  assert.match(error(""), /unsupported ORCA format ""/);
  assert.match(error("text cpu_utilization=0.3"), /unsupported ORCA format "text"/);
  assert.match(error("TEXT cpu_utilization=0.7,cpu_utilization=0.8"), /duplicate metric cpu_utilization/);
  assert.match(error("TEXT named_metrics.a=1,named_metrics.a=2"), /duplicate metric named_metrics.a/);
  assert.match(error("TEXT unsupported_metric=0.8"), /unknown metric unsupported_metric/);
  assert.match(error("TEXT named_metrics.=1"), /named metric key ""/);
  assert.match(error("TEXT utilization.=1"), /utilization key ""/);
  assert.match(error("TEXT not-a-list-of-key-value-pairs"), /is not name=value/);
  assert.match(error("TEXT =1"), /name is empty/);
  assert.match(error("TEXT cpu_utilization="), /"" is not a number/);
  assert.match(error('TEXT cpu_utilization="0.7"'), /is not a number/);
  assert.match(error("TEXT cpu_utilization=NaN"), /is not a number/);
  assert.match(error("TEXT cpu_utilization=Infinity"), /is not a number/);
  assert.match(error("TEXT cpu_utilization=0x10"), /is not a number/);
  assert.match(error("TEXT cpu_utilization=1e999"), /is not finite/);
  assert.match(error("TEXT cpu_utilization=-1"), /is negative/);
  assert.match(error("TEXT named_metrics.a b=1"), /must match/);
  assert.match(error("TEXT toString=1"), /unknown metric toString/);
  const many = Array.from({ length: 65 }, (_, i) => `named_metrics.m${i}=1`).join(",");
  assert.match(error(`TEXT ${many}`), /more than 64 metrics/);
  // Every error starts the same way, so a log line or an API answer says what it is about.
  assert.match(error("TEXT x=1"), /^invalid endpoint-load-metrics: /);
  // Control characters in the input never reach the message.
  const message = error("TEXT \u0000\u001b[31m=1");
  assert.ok([...message].every((c) => c >= " " && c <= "~"), message);
});

Deno.test("parseLoadReport() never throws on arbitrary input", () => {
  let seed = 1;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = "TEXT cpu_utilization=0.5,named_metrics.rif:-e+.\u00ff\u0000 ";
  for (let i = 0; i < 5_000; i++) {
    const length = Math.floor(random() * 60);
    let text = random() < 0.5 ? "TEXT " : "";
    for (let j = 0; j < length; j++) text += alphabet[Math.floor(random() * alphabet.length)];
    const r = parseLoadReport(text);
    if (r.ok) {
      for (const v of [...Object.values(r.report.namedMetrics), r.report.cpuUtilization ?? 0]) {
        assert.ok(Number.isFinite(v) && v >= 0, `${JSON.stringify(text)} gave ${v}`);
      }
    } else assert.equal(typeof r.error, "string");
  }
});

Deno.test("formatLoadReport() writes what parseLoadReport() reads back exactly", () => {
  const original = {
    cpuUtilization: 0.123456789,
    memUtilization: 0.5,
    rpsFractional: 1e-7,
    namedMetrics: { rif: 12, latency_ms: 20.5 },
    utilization: { gpu: 1 },
  };
  const text = formatLoadReport(original);
  assert.equal(
    text,
    "TEXT cpu_utilization=0.123456789, mem_utilization=0.5, rps_fractional=1e-7, " +
      "named_metrics.rif=12, named_metrics.latency_ms=20.5, utilization.gpu=1",
  );
  assert.deepEqual(report(text), original);
});

Deno.test("loadReportHeader() finds the first Endpoint-Load-Metrics field in any case", () => {
  assert.equal(loadReportHeader(["Content-Type", "text/plain"]), undefined);
  assert.equal(
    loadReportHeader([
      "x",
      "1",
      "Endpoint-Load-Metrics",
      "TEXT eps=1",
      "endpoint-load-metrics",
      "TEXT eps=2",
    ]),
    "TEXT eps=1",
  );
  assert.equal(loadReportHeader(["endpoint-load-metrics-bin", "AAAA"]), undefined);
});

Deno.test("reportedUtilization() prefers a positive application_utilization, as Envoy's WRR does", () => {
  assert.equal(reportedUtilization(report("TEXT cpu_utilization=0.3")), 0.3);
  assert.equal(reportedUtilization(report("TEXT cpu_utilization=0.3, application_utilization=0.6")), 0.6);
  assert.equal(reportedUtilization(report("TEXT cpu_utilization=0.3, application_utilization=0")), 0.3);
  assert.equal(reportedUtilization(report("TEXT named_metrics.rif=3")), undefined);
});
