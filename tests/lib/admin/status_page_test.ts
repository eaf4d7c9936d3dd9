import assert from "node:assert/strict";
import { launchChromium } from "../../_util/cdp.ts";
import { startBackend, startLb, waitFor } from "../../_util/harness.ts";
import { sleep, steadyLoad } from "../../_util/load.ts";
import { gatedTest, needs } from "../../_util/tools.ts";

/** The table as the browser renders it: backend -> field -> text. */
const READ_ROWS = `Array.from(document.querySelectorAll("#rows tr")).map((tr) => [
  tr.dataset.backend,
  Object.fromEntries(Array.from(tr.querySelectorAll("td")).map((td) => [td.dataset.field, td.textContent])),
])`;

type Rows = [string, Record<string, string>][];

gatedTest("status page shows live per-backend numbers and switches strategy", needs("chromium"), async () => {
  const backends = [
    startBackend(async () => (await sleep(1), new Response("fast"))),
    startBackend(async () => (await sleep(15), new Response("slow"))),
    startBackend(() => new Response("flaky", { status: Math.random() < 0.2 ? 500 : 200 })),
  ];
  const token = "s3cret-token";
  const lb = await startLb(backends.map((b) => b.url), `admin: {listen: "127.0.0.1:0", token: "${token}"}\n`);
  const stop = new AbortController();
  const load = steadyLoad(lb.url, {
    concurrency: 3,
    maxRequests: 20_000,
    maxMs: 30_000,
    pauseMs: 5,
    signal: stop.signal,
  });
  const browser = await launchChromium();
  try {
    const page = await browser.open(`${lb.adminUrl}/`);
    const rowsReady = async () => {
      const rows = await page.evaluate<Rows>(READ_ROWS);
      return rows.length === 3 && rows.every(([, r]) => Number(r.rate) > 0 && r.p99 !== "–");
    };
    await waitFor(rowsReady, 10_000, "three rows with traffic");
    const first = await page.evaluate<Rows>(READ_ROWS);
    assert.deepEqual(first.map(([name]) => name), ["b0", "b1", "b2"]);
    for (const [name, r] of first) {
      assert.equal(r.state, "healthy", name);
      assert.match(r.share, /^\d+\.\d %$/, name);
      assert.match(r.p50, /^\d+(\.\d+)? m?s$/, name);
    }
    // Live: the numbers move while load runs (rates ramp, shares and quantiles shift).
    await waitFor(
      async () => {
        const now = await page.evaluate<Rows>(READ_ROWS);
        return JSON.stringify(now.map(([, r]) => [r.rate, r.p50, r.p99])) !==
          JSON.stringify(first.map(([, r]) => [r.rate, r.p50, r.p99]));
      },
      5_000,
      "the table to change under load",
    );
    const slowP50 = Number.parseFloat((await page.evaluate<Rows>(READ_ROWS))[1][1].p50);
    assert.ok(slowP50 >= 10, `b1 answers after 15 ms; its p50 shows ${slowP50}`);
    const flakyErrors = Number.parseFloat((await page.evaluate<Rows>(READ_ROWS))[2][1].errors);
    assert.ok(flakyErrors > 0, "b2 answers 500 one time in five");
    const lines = await page.evaluate<number>(`document.querySelectorAll("#rate-chart polyline").length`);
    assert.ok(lines >= 3, `one rate line per backend, got ${lines}`);

    // The token field appears because the admin token is set; without it the switch is refused.
    assert.equal(await page.evaluate<boolean>(`document.getElementById("token").hidden`), false);
    const { strategy: before, available } = await (await fetch(`${lb.adminUrl}/api/strategy`)).json();
    const target: string = available.find((s: string) => s !== before) ?? before;
    const submit = (withToken: string) =>
      page.evaluate(`(() => {
        document.getElementById("choice").value = ${JSON.stringify(target)};
        document.getElementById("choice").dispatchEvent(new Event("change"));
        document.getElementById("token").value = ${JSON.stringify(withToken)};
        document.getElementById("apply").click();
      })()`);
    const message = () => page.evaluate<string>(`document.getElementById("message").textContent`);
    await submit("wrong");
    await waitFor(async () => /token is missing or wrong/.test(await message()), 5_000, "the 401 message");
    assert.equal((await (await fetch(`${lb.adminUrl}/api/strategy`)).json()).strategy, before);
    await submit(token);
    await waitFor(async () => (await message()) === `strategy is now ${target}`, 5_000, "the switch");
    assert.equal((await (await fetch(`${lb.adminUrl}/api/strategy`)).json()).strategy, target);
    await waitFor(
      async () => (await page.evaluate<string>(`document.getElementById("strategy").textContent`)) === target,
      5_000,
      "the page to show the new strategy",
    );
    if (target === before) console.log(`only ${before} is registered: the switch was a no-op PUT`);

    const dir = new URL("../../../reports/screenshots/", import.meta.url);
    await Deno.mkdir(dir, { recursive: true });
    const file = new URL("status_page.png", dir);
    await Deno.writeFile(file, await page.screenshot());
    console.log(`status page screenshot: ${file.pathname}`);
    assert.deepEqual(page.errors, [], "no script errors on the page");
  } finally {
    stop.abort();
    await browser.close();
    const result = await load;
    await lb.shutdown();
    await Promise.all(backends.map((b) => b.close()));
    assert.deepEqual(result.failures, []);
  }
});
