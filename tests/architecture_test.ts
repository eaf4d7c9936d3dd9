/**
 * The layout is a contract: `lib/` is a stack of layer folders, each importing only from layers
 * below it and only through their `mod.ts`; `algorithms/` imports nothing from the shell; the demo
 * uses `lib/` through the same `mod.ts` files; nothing imports in a cycle; and no module of the
 * proxy keeps mutable state at module level (state has one owner, created by `main.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { importsOf, sourceFiles } from "./_util/imports.ts";

/**
 * The layers of lib/, lowest first: a folder may import from folders of a lower rank only. Folders
 * of one rank are independent of each other.
 */
const LIB_LAYERS: Record<string, number> = {
  base: 0, // logger, timers, backoff, version
  net: 1, // IP addresses, CIDR, host names, affinity keys
  http1: 1, // the HTTP/1.1 wire format both sides share
  config: 2, // reading and validating config.yml
  metrics: 2, // the Prometheus registry's metrics, the status page's window
  listener: 3, // the public HTTP/1.1 server
  upstream: 3, // the pooled client to backends
  resilience: 3, // retry budget, outlier detection, slow start, wait queue
  routing: 3, // the route table: host, path, methods, headers; splits
  access_log: 3, // one line per finished exchange, batched writes off the request path
  pool: 4, // backends, eligibility, balancer, health checks, membership, one pool's reload
  docker: 5, // discovery and container stats
  service: 6, // services: a pool and its resilience each, the set a reload changes
  proxy: 7, // the request handler: route, admit, attempt, retry, headers
  admin: 8, // admin API and status page
  // Several isolates as one proxy: state mirrored from the owner, merged metrics and totals. Above
  // admin (it answers the admin API for every isolate), below the wiring that starts it.
  cluster: 9,
  server: 10, // wiring: startLoadBalancer, and the worker isolate's entry point
};

/** The demo's folders, lowest first; top-level demo files may use any of them. */
const DEMO_LAYERS: Record<string, number> = { shared: 0, backend: 1, load: 1, compare: 2 };

const ROOT = new URL("../", import.meta.url).pathname;

/** `lib/pool/balancer.ts` -> `pool`; undefined outside `dir`. */
function folderOf(dir: string, path: string): string | undefined {
  if (!path.startsWith(`${dir}/`)) return undefined;
  const rest = path.slice(dir.length + 1);
  return rest.includes("/") ? rest.slice(0, rest.indexOf("/")) : "";
}

const files = await sourceFiles(ROOT, ["lib", "algorithms", "demo", "main.ts", "tools", "grafana", "docker"]);
const graph = new Map<string, string[]>();
for (const f of files) graph.set(f, await importsOf(ROOT, f));

Deno.test("lib/ holds only layer folders, each with a mod.ts", async () => {
  const found: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}lib`)) found.push(e.isDirectory ? e.name : `${e.name} (file)`);
  assert.deepEqual(found.sort(), Object.keys(LIB_LAYERS).sort());
  for (const layer of Object.keys(LIB_LAYERS)) {
    assert.ok(files.includes(`lib/${layer}/mod.ts`), `lib/${layer}/mod.ts is missing`);
  }
});

Deno.test("lib/ layers import only from layers below them, through their mod.ts", () => {
  const problems: string[] = [];
  for (const [file, targets] of graph) {
    const from = folderOf("lib", file);
    if (from === undefined) continue;
    for (const t of targets) {
      const to = folderOf("lib", t);
      if (t.startsWith("algorithms/")) {
        if (t !== "algorithms/mod.ts") problems.push(`${file} -> ${t} (use algorithms/mod.ts)`);
        continue;
      }
      if (to === undefined || to === from) continue;
      if (!(LIB_LAYERS[to] < LIB_LAYERS[from])) {
        problems.push(
          `${file} -> ${t}: ${to} (layer ${LIB_LAYERS[to]}) is not below ${from} (${LIB_LAYERS[from]})`,
        );
      } else if (t !== `lib/${to}/mod.ts`) problems.push(`${file} -> ${t} (use lib/${to}/mod.ts)`);
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("algorithms/ imports nothing but its own files", () => {
  const problems = [...graph].flatMap(([file, targets]) =>
    file.startsWith("algorithms/")
      ? targets.filter((t) => !t.startsWith("algorithms/")).map((t) => `${file} -> ${t}`)
      : []
  );
  assert.deepEqual(problems, []);
});

Deno.test("demo/, tools/, grafana/, docker/ and main.ts use lib/ and each other only through mod.ts", () => {
  const problems: string[] = [];
  for (const [file, targets] of graph) {
    // Benchmarks, like tests, measure internals directly.
    if (file.startsWith("lib/") || file.startsWith("algorithms/") || file.endsWith("_bench.ts")) continue;
    const from = folderOf("demo", file);
    for (const t of targets) {
      const lib = folderOf("lib", t);
      if (lib !== undefined && t !== `lib/${lib}/mod.ts`) {
        problems.push(`${file} -> ${t} (use lib/${lib}/mod.ts)`);
      }
      if (t.startsWith("algorithms/") && t !== "algorithms/mod.ts") {
        problems.push(`${file} -> ${t} (use algorithms/mod.ts)`);
      }
      const to = folderOf("demo", t);
      if (to === undefined || to === from || to === "") continue;
      if (from !== undefined && from !== "" && !(DEMO_LAYERS[to] < DEMO_LAYERS[from])) {
        problems.push(`${file} -> ${t}: demo/${to} is not below demo/${from}`);
      } else if (t !== `demo/${to}/mod.ts`) problems.push(`${file} -> ${t} (use demo/${to}/mod.ts)`);
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("no module imports itself through a cycle", () => {
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === "open") cycles.push([...stack.slice(stack.indexOf(t)), t].join(" -> "));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});

Deno.test("lib/ and algorithms/ keep no mutable state at module level", async () => {
  const problems: string[] = [];
  for (const f of files.filter((f) => f.startsWith("lib/") || f.startsWith("algorithms/"))) {
    const text = await Deno.readTextFile(`${ROOT}${f}`);
    text.split("\n").forEach((line, i) => {
      if (/^(export )?(let|var) /.test(line)) problems.push(`${f}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(problems, []);
});
