import assert from "node:assert/strict";
import { type Browser, launchChromium, type Page } from "../../_util/cdp.ts";
import { startBackend, startLb, startLbFrom, type TestLb, waitFor } from "../../_util/harness.ts";
import { sleep, steadyLoad } from "../../_util/load.ts";
import { clickIn, readChart, readLegend, readSections, switchStrategy } from "../../_util/status_page.ts";
import { gatedTest, needs } from "../../_util/tools.ts";

const TOKEN = "s3cret-token";
const SCREENSHOTS = new URL("../../../reports/screenshots/", import.meta.url);

/** What every step gets: the proxy, the browser, the open page and an API reader. */
interface Ctx {
  readonly lb: TestLb;
  readonly browser: Browser;
  readonly page: Page;
  /** GET `/api{path}` as JSON. */
  // deno-lint-ignore no-explicit-any
  api(path: string): Promise<any>;
}

const section = async (ctx: Ctx, name: string) =>
  (await readSections(ctx.page)).find((s) => s.service === name)!;
const tokenFieldShown = (page: Page) =>
  page.evaluate<boolean>(`document.getElementById("token").offsetParent !== null`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function sectionPerService(ctx: Ctx) {
  await waitFor(
    async () => {
      const all = await readSections(ctx.page);
      return all.length === 2 &&
        all.every((s) => s.rows.length === 2 && s.rows.every(([, r]) => Number(r.rate) > 0));
    },
    10_000,
    "two sections with traffic on every backend",
  );
  const all = await readSections(ctx.page);
  assert.deepEqual(all.map((s) => [s.service, s.strategy, s.rows.map(([b]) => b)]), [
    ["web", "round_robin", ["fast", "slow"]],
    ["api", "peak_ewma", ["a1", "a2"]],
  ]);
  for (const [name, r] of all.flatMap((s) => s.rows)) {
    assert.deepEqual([r.state, r.action], ["healthy", "drain"], name);
    assert.match(r.share, /^\d+\.\d %$/, name);
  }
  assert.ok(Number.parseFloat(all[0].rows[1][1].p50) >= 100, "slow answers after 100 ms");
  assert.equal(await tokenFieldShown(ctx.page), true, "the token is asked for");
}

async function legend(ctx: Ctx) {
  for (const [service, names] of [["web", ["fast", "slow"]], ["api", ["a1", "a2"]]] as const) {
    const entries = await readLegend(ctx.page, service);
    assert.deepEqual(entries.map(([name]) => name), names);
    assert.equal(new Set(entries.map(([, c]) => c)).size, 2, `distinct colours in ${service}`);
    for (const chart of ["rate", "p99"] as const) {
      // A backend's line starts at its first complete second with an answer; the table's rate
      // (what the first step waited for) can show traffic a moment before that.
      let lines: Awaited<ReturnType<typeof readChart>>["lines"] = {};
      await waitFor(
        async () => {
          lines = (await readChart(ctx.page, service, chart)).lines;
          return names.every((n) => n in lines);
        },
        5_000,
        `a ${chart} line for every backend of ${service}`,
      );
      for (const [name, color] of entries) {
        assert.equal(lines[name]?.stroke, color, `${service} ${chart} ${name}`);
      }
    }
  }
}

async function strategySwitch(ctx: Ctx) {
  const said = (text: string) => async () => (await section(ctx, "api")).message === text;
  await switchStrategy(ctx.page, "api", "least_connections", "");
  await waitFor(said("enter the admin token first"), 5_000, "the missing-token message");
  assert.equal(await ctx.page.evaluate(`document.activeElement.id`), "token", "the token field has focus");
  await switchStrategy(ctx.page, "api", "least_connections", "wrong");
  await waitFor(said("the admin token is wrong"), 5_000, "the wrong-token message");
  assert.equal((await ctx.api("/services/api")).strategy, "peak_ewma");
  await switchStrategy(ctx.page, "api", "least_connections", TOKEN);
  await waitFor(said("strategy is now least_connections"), 5_000, "the switch");
  const strategies = (await ctx.api("/services")).map((
    s: { name: string; strategy: string },
  ) => [s.name, s.strategy]);
  assert.deepEqual(strategies, [["web", "round_robin"], ["api", "least_connections"]]);
  await waitFor(async () => (await section(ctx, "api")).strategy === "least_connections", 5_000, "it shown");
  assert.equal((await section(ctx, "web")).strategy, "round_robin");
}

async function strategyMarks(ctx: Ctx) {
  const marks = async (service: string, chart: "rate" | "p99") =>
    (await readChart(ctx.page, service, chart)).marks;
  await waitFor(async () => (await marks("api", "p99")).length === 1, 5_000, "the mark");
  const { width } = await readChart(ctx.page, "api", "p99");
  const [first] = await marks("api", "p99");
  assert.equal(first.to, "least_connections");
  assert.ok(first.x > width * 0.9, `a switch just made is at the right end: x ${first.x} of ${width}`);
  assert.deepEqual((await marks("api", "rate")).map((m) => m.to), ["least_connections"]);
  assert.deepEqual([...await marks("web", "p99"), ...await marks("web", "rate")], [], "web did not switch");
  assert.equal((await readLegend(ctx.page, "api")).at(-1)?.[0], "strategy switch");
  await waitFor(async () => (await marks("api", "p99"))[0].x < first.x - 5, 5_000, "the mark to move left");
}

async function drainAndEnable(ctx: Ctx) {
  const row = async (backend: string) => (await section(ctx, "web")).rows.find(([b]) => b === backend)![1];
  const state = async (backend: string) =>
    (await ctx.api("/services/web")).backends.find((b: { name: string }) => b.name === backend).state;
  await clickIn(ctx.page, "web", 'tr[data-backend="slow"] button');
  await waitFor(async () => (await row("slow")).state === "draining", 5_000, "slow draining on the page");
  assert.deepEqual([await state("slow"), await state("fast")], ["draining", "healthy"]);
  assert.equal((await row("slow")).action, "enable");
  assert.equal((await section(ctx, "web")).message, "slow is now draining");
  await sleep(1_500); // a visible gap in slow's lines
  await clickIn(ctx.page, "web", 'tr[data-backend="slow"] button');
  await waitFor(async () => (await row("slow")).state === "healthy", 5_000, "slow healthy on the page");
  assert.equal(await state("slow"), "healthy");
  assert.equal((await row("slow")).action, "drain");
  assert.deepEqual((await section(ctx, "api")).rows.map(([, r]) => r.state), ["healthy", "healthy"]);
}

async function logAxis(ctx: Ctx) {
  const p99 = () => readChart(ctx.page, "web", "p99");
  await waitFor(
    async () => {
      const { lines } = await p99();
      return ["fast", "slow"].every((b) => (lines[b]?.ys.length ?? 0) >= 10);
    },
    15_000,
    "ten seconds of p99 per web backend",
  );
  const chart = await p99();
  assert.ok(
    Math.abs(chart.width - chart.rendered) <= 1,
    `view box ${chart.width}, drawn ${chart.rendered} wide`,
  );
  const exps = chart.ticks.map((tk) => Math.log10(tk.value));
  assert.ok(
    exps.length >= 3 && exps.every((e, i) => Number.isInteger(e) && (i === 0 || e - exps[i - 1] === 1)),
    `ticks at consecutive powers of ten: ${chart.ticks.map((tk) => tk.label)}`,
  );
  const decade = chart.ticks[0].y - chart.ticks[1].y;
  for (let i = 1; i < chart.ticks.length; i++) {
    assert.ok(Math.abs(chart.ticks[i - 1].y - chart.ticks[i].y - decade) < 0.5, "decades evenly spaced");
  }
  // Every point sits where a log axis puts the backend's p99 of that second: read after the
  // chart, the API has the same complete seconds, and at most one more.
  const at = (v: number) => chart.ticks[0].y - (Math.log10(v) - exps[0]) * decade;
  const web = (await ctx.api("/stats")).services[0];
  for (const b of ["fast", "slow"]) {
    const seconds: (number | null)[] = web.backends.find((x: { name: string }) =>
      x.name === b
    ).p99_per_second;
    const expected = seconds.filter((v) => v !== null).map(at);
    const drawn = chart.lines[b].ys;
    assert.ok(
      expected.length - drawn.length <= 1,
      `${b}: ${drawn.length} points, ${expected.length} seconds`,
    );
    drawn.forEach((y, i) =>
      assert.ok(Math.abs(y - expected[i]) < 0.2, `${b} #${i}: y ${y}, log axis ${expected[i]}`)
    );
  }
  // Visibly apart. The first seconds are the proxy's warm-up (JIT, first connections): judge the
  // last six. About a decade here; on a busy machine the in-process fast backend's p99 rises to
  // 20-30 ms, still over 20 px below slow's.
  const fast = median(chart.lines.fast.ys.slice(-6)), slow = median(chart.lines.slow.ys.slice(-6));
  assert.ok(fast - slow >= 20, `fast drawn at y ${fast}, slow at ${slow}: a decade is ${decade}px`);
}

async function screenshots(ctx: Ctx) {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  const wide = new URL("status_page.png", SCREENSHOTS);
  await Deno.writeFile(wide, await ctx.page.screenshot());
  console.log(`status page screenshot: ${wide.pathname}`);
  const narrow = await ctx.browser.open(`${ctx.lb.adminUrl}/`, { width: 390, height: 1400 });
  await waitFor(
    // A section is there from the first poll on; its chart's mark is what the screenshot shows.
    async () =>
      (await readSections(narrow)).length === 2 && (await readChart(narrow, "api", "p99")).marks.length === 1,
    5_000,
    "the narrow page",
  );
  const file = new URL("status_page_narrow.png", SCREENSHOTS);
  await Deno.writeFile(file, await narrow.screenshot());
  console.log(`narrow status page screenshot: ${file.pathname}`);
  // Nothing sticks out of the window (its client width leaves out the scroll bar) or scrolls sideways.
  const overflow = await narrow.evaluate<string[]>(`(() => {
    const width = document.documentElement.clientWidth;
    const wide = Array.from(document.querySelectorAll("body *")).filter((e) => e.getBoundingClientRect().right > width);
    if (document.documentElement.scrollWidth > width) wide.push(document.documentElement);
    return wide.map((e) => e.tagName + (e.dataset?.field ? "." + e.dataset.field : ""));
  })()`);
  assert.deepEqual(overflow, [], "wider than the narrow window");
  assert.deepEqual([...ctx.page.errors, ...narrow.errors], [], "no script errors on the page");
}

gatedTest(
  "status page: per-service sections, switches, drain/enable, log p99, marks",
  needs("chromium"),
  async (t) => {
    const backends = {
      fast: startBackend(async () => (await sleep(1), new Response("fast"))),
      slow: startBackend(async () => (await sleep(100), new Response("slow"))),
      a1: startBackend(() => new Response("a1")),
      a2: startBackend(() => new Response("a2")),
    };
    const url = (name: keyof typeof backends) => `{name: ${name}, url: "${backends[name].url}"}`;
    const lb = await startLbFrom(`admin: {listen: "127.0.0.1:0", token: "${TOKEN}"}
health_check: {interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1}
services:
  web: {backends: [${url("fast")}, ${url("slow")}]}
  api: {strategy: peak_ewma, backends: [${url("a1")}, ${url("a2")}]}
routes:
  - {match: {path_prefix: /api}, service: api}
  - service: web
`);
    const stop = new AbortController();
    let n = 0;
    const load = steadyLoad(lb.url, {
      concurrency: 4,
      maxRequests: 40_000,
      maxMs: 60_000,
      pauseMs: 5,
      signal: stop.signal,
      path: () => n++ % 2 ? "/api/x" : "/",
    });
    const browser = await launchChromium();
    try {
      const page = await browser.open(`${lb.adminUrl}/`);
      const ctx: Ctx = {
        lb,
        browser,
        page,
        api: async (path) => await (await fetch(`${lb.adminUrl}/api${path}`)).json(),
      };
      await t.step(
        "one section per service, in config order, with its backends and the token field",
        () => sectionPerService(ctx),
      );
      await t.step("the legend names each backend in the colour of its lines", () => legend(ctx));
      await t.step(
        "each section's switch needs the token and switches that service only",
        () => strategySwitch(ctx),
      );
      await t.step(
        "a mark on that service's charts where its strategy changed, moving left",
        () => strategyMarks(ctx),
      );
      await t.step("drain and enable buttons change the backend's state", () => drainAndEnable(ctx));
      await t.step(
        "p99 on a log axis: powers of ten, every point in place, 1 ms and 100 ms apart",
        () => logAxis(ctx),
      );
      await t.step("screenshots at 1280x800 and 390 wide, with no script errors", () => screenshots(ctx));
    } finally {
      stop.abort();
      await browser.close();
      const result = await load;
      await lb.shutdown();
      await Promise.all(Object.values(backends).map((b) => b.close()));
      assert.deepEqual(result.failures, []);
    }
  },
);

gatedTest(
  "status page without admin.token: no token field, and its buttons need none",
  needs("chromium"),
  async () => {
    const be = startBackend();
    const lb = await startLb([be.url]);
    const browser = await launchChromium();
    try {
      const page = await browser.open(`${lb.adminUrl}/`);
      await waitFor(async () => (await readSections(page)).length === 1, 5_000, "the section");
      const [only] = await readSections(page);
      assert.deepEqual([only.service, only.rows.map(([b]) => b)], ["default", ["b0"]]);
      assert.equal(await tokenFieldShown(page), false);
      await clickIn(page, "default", 'tr[data-backend="b0"] button');
      await waitFor(
        async () => (await readSections(page))[0].message === "b0 is now draining",
        5_000,
        "the drain",
      );
      const [b0] = await (await fetch(`${lb.adminUrl}/api/backends`)).json();
      assert.equal(b0.state, "draining");
      assert.deepEqual(page.errors, []);
    } finally {
      await browser.close();
      await lb.shutdown();
      await be.close();
    }
  },
);
