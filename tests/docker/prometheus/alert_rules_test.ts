/**
 * The alert rules (docker/prometheus/alert_rules.yml): their shape, their promtool unit tests
 * (alert_rules_test.yml and alert_rules_slow_burn_test.yml beside this file), that every alert has
 * a case where it fires and one where it stays quiet, and that the compose Prometheus loads them.
 * alert_rules_live_test.ts checks them against a real proxy.
 */
import assert from "node:assert/strict";
import { readAlerts, readUnitTests, readYaml, repoPath, RULES, UNIT_TESTS } from "../../_util/alert_rules.ts";
import { gatedTest, needs } from "../../_util/tools.ts";

Deno.test("alert_rules.yml: every alert has a severity, and a summary, description and runbook", async () => {
  const alerts = await readAlerts();
  assert.ok(alerts.length >= 8, `${alerts.length} alerts`);
  assert.equal(new Set(alerts.map((a) => a.alert)).size, alerts.length, "alert names are unique");
  for (const a of alerts) {
    assert.match(a.alert!, /^Lb[A-Z][A-Za-z0-9]+$/, "alert names are LbCamelCase");
    assert.ok(["page", "ticket"].includes(a.labels?.severity ?? ""), `${a.alert}: severity page or ticket`);
    for (const key of ["summary", "description", "runbook"]) {
      assert.ok((a.annotations?.[key] ?? "").trim().length > 20, `${a.alert}: annotation ${key}`);
    }
    const text = `${a.annotations!.summary} ${a.annotations!.description}`;
    assert.match(text, /\{\{ \$labels\.(service|instance) \}\}/, `${a.alert}: says which service or proxy`);
  }
});

Deno.test("alert_rules_test*.yml: every alert has a case where it fires and one where it stays quiet", async () => {
  const alerts = new Map((await readAlerts()).map((a) => [a.alert!, a]));
  const fires = new Map<string, number>();
  const quiet = new Map<string, number>();
  for (const { file, doc } of await readUnitTests()) {
    assert.deepEqual(doc.rule_files, [`../../../${RULES}`], `${file} tests ${RULES}`);
    for (const group of doc.tests) {
      for (const c of group.alert_rule_test ?? []) {
        const rule = alerts.get(c.alertname);
        assert.ok(rule, `${file}: "${group.name}" tests ${c.alertname}, which ${RULES} does not have`);
        const expected = c.exp_alerts ?? [];
        const count = expected.length ? fires : quiet;
        count.set(c.alertname, (count.get(c.alertname) ?? 0) + 1);
        for (const e of expected) {
          // promtool compares labels and annotations exactly; this only makes the cases say them.
          assert.equal(e.exp_labels?.severity, rule.labels!.severity, `${file}: "${group.name}": severity`);
          assert.deepEqual(
            Object.keys(e.exp_annotations ?? {}).sort(),
            Object.keys(rule.annotations!).sort(),
            `${file}: "${group.name}": every annotation`,
          );
        }
      }
    }
  }
  const missing = [...alerts.keys()].flatMap((name) => [
    ...(fires.has(name) ? [] : [`${name}: no case where it fires`]),
    ...(quiet.has(name) ? [] : [`${name}: no case where it stays quiet`]),
  ]);
  assert.deepEqual(missing, [], `add them to ${UNIT_TESTS[0]}`);
});

Deno.test("prometheus.yml loads alert_rules.yml, and compose.yml mounts it where the compose Prometheus reads it", async () => {
  const config = await readYaml<{ rule_files?: string[] }>("prometheus.yml");
  assert.deepEqual(config.rule_files, [RULES]);
  const compose = await readYaml<{ services: { prometheus: { volumes: string[] } } }>("compose.yml");
  const mounts = new Map(
    compose.services.prometheus.volumes.map((v) => v.split(":")).map(([from, to]) => [to, from]),
  );
  const configMount = [...mounts].find(([, from]) => from === "./prometheus.yml");
  assert.ok(configMount, "compose mounts ./prometheus.yml");
  // Relative rule_files resolve against the config file's directory, in the container as here.
  const dir = configMount[0].slice(0, configMount[0].lastIndexOf("/"));
  for (const file of config.rule_files!) {
    assert.equal(mounts.get(`${dir}/${file}`), `./${file}`, `${file} is mounted at ${dir}/${file}`);
  }
});

gatedTest("promtool check rules and test rules pass on alert_rules.yml", needs("promtool"), async () => {
  const promtool = async (...args: string[]) => {
    const out = await new Deno.Command("promtool", {
      args,
      cwd: repoPath("."),
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `promtool ${args.join(" ")}:\n${text}`);
    return text;
  };
  assert.match(await promtool("check", "rules", RULES), /SUCCESS: \d+ rules found/);
  const report = await promtool("test", "rules", ...UNIT_TESTS);
  assert.equal(report.match(/SUCCESS/g)?.length, UNIT_TESTS.length, report);
  let cases = 0;
  for (const { doc } of await readUnitTests()) {
    for (const g of doc.tests) cases += (g.alert_rule_test?.length ?? 0) + (g.promql_expr_test?.length ?? 0);
  }
  console.log(`promtool: ${cases} cases in ${UNIT_TESTS.length} files passed`);
});
