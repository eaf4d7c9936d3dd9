/**
 * The Swarm stack file (docker/stack.yml) and the files it deploys as configs, read as
 * `docker stack deploy` and the proxy read them: the proxy's config parses with the stack's
 * environment and finds the backend service by its deploy labels, every service is reachable by
 * DNS round robin, Prometheus finds the proxy replicas on the admin port. scripts/e2e-swarm.sh
 * deploys the stack on a real swarm.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/mod.ts";
import { readYaml, repoPath, RULES } from "../_util/alert_rules.ts";
import { gatedTest, needs } from "../_util/tools.ts";

interface StackService {
  image: string;
  environment?: Record<string, string>;
  configs?: { source: string; target: string }[];
  networks?: string[];
  deploy: { replicas?: number | string; endpoint_mode?: string; labels?: Record<string, string> };
}
interface Stack {
  version: string;
  services: Record<string, StackService>;
  networks: Record<string, { driver: string; attachable: boolean; name: string }>;
  configs: Record<string, { file: string }>;
}

const readStack = () => readYaml<Stack>("docker/stack.yml");

/** `${VAR:-default}` as `docker stack deploy` expands it, with no variable set. */
const withDefaults = (text: string) => text.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}/g, "$1");

Deno.test("docker/stack.yml: lb 2 and backend 3 replicas, every service dnsrr on one attachable overlay network", async () => {
  const stack = await readStack();
  // Docker 20.10's `stack deploy` deploys nothing from a file without a version.
  assert.match(stack.version, /^3\.\d+$/);
  assert.deepEqual(Object.keys(stack.services).sort(), ["backend", "grafana", "lb", "prometheus"]);
  assert.equal(stack.services.lb.deploy.replicas, 2);
  assert.equal(stack.services.backend.deploy.replicas, 3);
  for (const [name, service] of Object.entries(stack.services)) {
    // The virtual IP (IPVS) does not route on every host; see the file's header.
    assert.equal(service.deploy.endpoint_mode, "dnsrr", `${name}: endpoint_mode`);
    assert.deepEqual(service.networks, ["lb"], `${name}: networks`);
  }
  assert.equal(stack.networks.lb.driver, "overlay");
  assert.equal(stack.networks.lb.attachable, true);
  assert.equal(withDefaults(stack.networks.lb.name), "lb-net");
});

Deno.test("docker/stack.yml: every config file it deploys exists, relative to the stack file", async () => {
  const stack = await readStack();
  const used = Object.values(stack.services).flatMap((s) => (s.configs ?? []).map((c) => c.source));
  assert.deepEqual([...new Set(used)].sort(), Object.keys(stack.configs).sort(), "every config is used");
  for (const [name, { file }] of Object.entries(stack.configs)) {
    const path = repoPath(`docker/${file}`);
    assert.ok((await Deno.stat(path)).isFile, `${name}: ${file}`);
  }
});

Deno.test("docker/stack/lb.yml parses with the stack's environment and discovers the backend service by its deploy labels", async () => {
  const stack = await readStack();
  const lb = stack.services.lb;
  const env = Object.fromEntries(Object.entries(lb.environment ?? {}).map(([k, v]) => [k, withDefaults(v)]));
  const target = lb.configs!.find((c) => c.source === "lb_config")!.target;
  assert.equal(env.LB_CONFIG, target, "the proxy reads the config where the stack puts it");
  const text = await Deno.readTextFile(repoPath("docker/stack/lb.yml"));
  const result = parseConfig(text, { file: "docker/stack/lb.yml", env: (name) => env[name] });
  assert.ok(result.ok, result.ok ? "" : result.errors.join("\n"));
  const { docker } = result.config.discovery;
  assert.equal(docker.enabled, true);
  assert.equal(docker.mode, "swarm");
  assert.equal(docker.network, withDefaults(stack.networks.lb.name), "task addresses on the stack's network");
  assert.equal(result.config.services[0].strategy, "ip_hash");

  const labels = Object.fromEntries(
    Object.entries(stack.services.backend.deploy.labels ?? {}).map(([k, v]) => [k, withDefaults(v)]),
  );
  const [key, value] = docker.label.split("=");
  assert.equal(labels[key], value, `backend's deploy labels carry ${docker.label}`);
  const port = Number(labels[docker.portLabel]);
  assert.equal(port, 9001, "the demo backend's port");
  assert.deepEqual(docker.dnsFallback.map((t) => [t.name, t.port]), [["backend", port]]);
  assert.equal(result.config.admin.listen.port, 8081, "the admin port the healthcheck and Prometheus use");
  assert.equal(result.config.accessLog.enabled, true, "one JSON line per request in the service's logs");
});

Deno.test("docker/stack/prometheus.yml: every lb replica by dns_sd_configs on tasks.lb, and the alert rules where the stack mounts them", async () => {
  interface PromConfig {
    rule_files: string[];
    scrape_configs: {
      job_name: string;
      dns_sd_configs?: { names: string[]; type: string; port: number }[];
    }[];
  }
  const config = await readYaml<PromConfig>("docker/stack/prometheus.yml");
  const job = config.scrape_configs.find((j) => j.job_name === "lb");
  assert.deepEqual(job?.dns_sd_configs, [{
    names: ["tasks.lb"],
    type: "A",
    port: 8081,
    refresh_interval: "5s",
  }]);
  const stack = await readStack();
  const mounts = new Map(
    (stack.services.prometheus.configs ?? []).map((c) => [c.target, stack.configs[c.source].file]),
  );
  assert.equal(mounts.get("/etc/prometheus/prometheus.yml"), "./stack/prometheus.yml");
  // Relative rule_files resolve against the config's directory: the same file here and in the task.
  for (const file of config.rule_files) {
    assert.equal(new URL(file, "file:///repo/docker/stack/").pathname, `/repo/${RULES}`, `${file} here`);
    const inTask = new URL(file, "file:///etc/prometheus/").pathname;
    assert.equal(mounts.get(inTask), `./${RULES.replace("docker/", "")}`, `${file} in the task: ${inTask}`);
  }
});

gatedTest(
  "promtool check config passes on docker/stack/prometheus.yml and its rule file",
  needs("promtool"),
  async () => {
    const out = await new Deno.Command("promtool", {
      args: ["check", "config", "docker/stack/prometheus.yml"],
      cwd: repoPath("."),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /SUCCESS: 1 rule files found/);
  },
);
