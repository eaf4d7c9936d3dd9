import assert from "node:assert/strict";
import { parseConfig } from "../../../lib/config/config.ts";
import { scrape, startBackend, startLb } from "../../_util/harness.ts";

Deno.test("lb_config_last_reload_successful is 1 at start, 0 from a rejected reload until the next good one", async () => {
  const be = startBackend();
  let file = "backends: [";
  const lb = await startLb([be.url], "", {
    configSource: () => Promise.resolve(parseConfig(file, { file: "lb.yml" })),
  });
  const reload = async () => {
    const r = await fetch(`${lb.adminUrl}/api/reload`, { method: "POST" });
    await r.body?.cancel();
    return r.status;
  };
  const state = async () => {
    const m = await scrape(lb);
    return [
      m.get("lb_config_last_reload_successful"),
      m.get('lb_config_reloads_total{result="success"}'),
      m.get('lb_config_reloads_total{result="failure"}'),
    ];
  };
  try {
    assert.deepEqual(await state(), [1, 0, 0], "the config it started with was valid");
    assert.equal(await reload(), 422);
    assert.deepEqual(await state(), [0, 0, 1]);
    assert.equal(await reload(), 422);
    assert.deepEqual(await state(), [0, 0, 2], "still 0: nothing succeeded since");
    file = `listen: "127.0.0.1:${lb.proxyAddr.port}"\nadmin: {listen: "127.0.0.1:${lb.adminAddr.port}"}\n` +
      `backends: [{name: b0, url: "${be.url}"}]\n`;
    assert.equal(await reload(), 200);
    assert.deepEqual(await state(), [1, 1, 2]);
  } finally {
    await lb.shutdown();
    await be.close();
  }
});
