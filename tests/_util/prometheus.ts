/**
 * A real Prometheus (the `prometheus` binary on PATH) in a temporary directory on a free loopback
 * port, scraping the given targets every second, plus a tiny client for its HTTP API.
 *
 * @module
 */

/** One series of a query result. */
export interface Series {
  metric: Record<string, string>;
  /** [unix seconds, value as text]; instant queries give one. */
  values: [number, string][];
}

/** A running test Prometheus. */
export interface TestPrometheus {
  readonly url: string;
  /** Instant query at `time` (unix seconds). */
  query(expr: string, time: number): Promise<Series[]>;
  /** Range query over [start, end] (unix seconds) every `step` seconds. */
  queryRange(expr: string, start: number, end: number, step: number): Promise<Series[]>;
  /** Values of `label` on series matching `match`, as Grafana's `label_values()` asks for them. */
  labelValues(label: string, match: string): Promise<string[]>;
  /** The `data` of any GET API path, e.g. `/api/v1/alerts` or `/api/v1/rules`. */
  get<T>(path: string): Promise<T>;
  close(): Promise<void>;
}

/** A loopback port that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Options for {@linkcode startPrometheus}. */
export interface TestPrometheusOptions {
  /** Rule files (absolute paths) to load; their rules are evaluated every second. @default none */
  readonly ruleFiles?: readonly string[];
}

/** The scrape config for the test: one `lb` job, 1 s interval, and the rule files if any. */
export function testPrometheusConfig(targets: string[], options: TestPrometheusOptions = {}): string {
  const rules = options.ruleFiles ?? [];
  return [
    "global: {scrape_interval: 1s, evaluation_interval: 1s}",
    ...(rules.length ? [`rule_files: [${rules.map((f) => JSON.stringify(f)).join(", ")}]`] : []),
    "scrape_configs:",
    "  - job_name: lb",
    "    scrape_timeout: 900ms",
    `    static_configs: [{targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]}]`,
    "",
  ].join("\n");
}

async function api<T>(url: string): Promise<T> {
  const r = await fetch(url);
  const body = await r.json();
  if (body.status !== "success") throw new Error(`${url}: ${body.errorType}: ${body.error}`);
  return body.data as T;
}

/** Start Prometheus and wait until it is ready and has scraped every target once. */
export async function startPrometheus(
  targets: string[],
  options: TestPrometheusOptions = {},
): Promise<TestPrometheus> {
  const dir = await Deno.makeTempDir({ prefix: "lb-prometheus-" });
  await Deno.writeTextFile(`${dir}/prometheus.yml`, testPrometheusConfig(targets, options));
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command("prometheus", {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const drained = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (s) => void (stderr = (stderr + s).slice(-4000)) }),
  ).catch(() => {});
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await drained;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const self: TestPrometheus = {
    url,
    query: async (expr, time) => {
      const q = new URLSearchParams({ query: expr, time: String(time) });
      const data = await api<
        { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }
      >(
        `${url}/api/v1/query?${q}`,
      );
      if (data.resultType === "scalar") {
        const v = data.result as unknown as [number, string];
        return [{ metric: {}, values: [v] }];
      }
      return data.result.map((s) => ({ metric: s.metric, values: [s.value] }));
    },
    queryRange: async (expr, start, end, step) => {
      const q = new URLSearchParams({
        query: expr,
        start: String(start),
        end: String(end),
        step: String(step),
      });
      return await api<{ result: Series[] }>(`${url}/api/v1/query_range?${q}`).then((d) => d.result);
    },
    labelValues: (label, match) =>
      api<string[]>(`${url}/api/v1/label/${label}/values?${new URLSearchParams({ "match[]": match })}`),
    get: (path) => api(`${url}${path}`),
    close,
  };
  try {
    const deadline = performance.now() + 20_000;
    while (true) {
      const up = await self.query("min(up)", Date.now() / 1000).catch(() => []);
      if (up.length && up[0].values[0][1] === "1") break;
      if (performance.now() > deadline) {
        throw new Error(`prometheus did not scrape ${targets} in 20 s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    await close();
    throw e;
  }
  return self;
}
