/**
 * The alert rules file and its promtool unit-test files, read with npm:yaml for the tests that
 * check them (tests/docker/prometheus/).
 *
 * @module
 */
import { parse } from "yaml";

const root = new URL("../../", import.meta.url);

/** The rules file, relative to the repository root. */
export const RULES = "docker/prometheus/alert_rules.yml";

/** The `promtool test rules` files, relative to the repository root. */
export const UNIT_TESTS: readonly string[] = [
  "tests/docker/prometheus/alert_rules_test.yml",
  "tests/docker/prometheus/alert_rules_slow_burn_test.yml",
];

/** Absolute path of a file given relative to the repository root. */
export const repoPath = (file: string): string => new URL(file, root).pathname;

/** Parse a YAML file of the repository (no validation: the tests check what they read). */
export async function readYaml<T>(file: string): Promise<T> {
  return parse(await Deno.readTextFile(repoPath(file))) as T;
}

/** One rule of a rules file. */
export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Prometheus rules file. */
export interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}

/** One `alert_rule_test` case: no `exp_alerts` (or an empty list) means the alert must be quiet. */
export interface AlertCase {
  eval_time: string;
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[] | null;
}

/** A `promtool test rules` file. */
export interface UnitTestFile {
  rule_files: string[];
  tests: { name?: string; alert_rule_test?: AlertCase[]; promql_expr_test?: unknown[] }[];
}

/** The alerting rules of the rules file, in file order. */
export async function readAlerts(): Promise<Rule[]> {
  return (await readYaml<RuleFile>(RULES)).groups.flatMap((g) => g.rules).filter((r) => r.alert);
}

/** Every unit-test file, parsed. */
export async function readUnitTests(): Promise<{ file: string; doc: UnitTestFile }[]> {
  return await Promise.all(
    UNIT_TESTS.map(async (file) => ({ file, doc: await readYaml<UnitTestFile>(file) })),
  );
}
