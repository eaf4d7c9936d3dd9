/**
 * Route matching cost: a 50-route table (hosts, wildcards, path prefixes, methods, a header
 * route), matched against requests that hit routes near the top, in the middle and at the end,
 * and one that matches nothing; and the lone catch-all of a one-service config.
 *
 * Run: `deno task bench` (or `deno bench --allow-read --allow-env tools/bench/routes_bench.ts`).
 * The goal is under 1 µs per match for the 50-route table.
 *
 * @module
 */

import { parseConfig } from "../../lib/config/config.ts";
import { Router } from "../../lib/routing/router.ts";

const services = Array.from(
  { length: 10 },
  (_, i) => `  s${i}: {backends: [{url: "http://127.0.0.1:${9000 + i}"}]}`,
);
const routes: string[] = [];
for (let i = 0; i < 49; i++) {
  const s = `s${i % 10}`;
  if (i % 5 === 0) routes.push(`  - match: {host: "*.tenant${i}.example.test"}\n    service: ${s}`);
  else if (i % 5 === 1) {
    routes.push(`  - match: {host: app${i}.example.test, path_prefix: /v${i}}\n    service: ${s}`);
  } else if (i % 5 === 2) {
    routes.push(`  - match: {path_prefix: /svc${i}, methods: [GET, POST]}\n    service: ${s}`);
  } else if (i % 5 === 3) {
    routes.push(`  - match: {path_prefix: /svc${i}, headers: {x-canary: "1"}}\n    service: ${s}`);
  } else routes.push(`  - match: {host: host${i}.example.test}\n    service: ${s}`);
}
routes.push("  - match: {path_prefix: /last}\n    service: s0");
const parsed = parseConfig(`services:\n${services.join("\n")}\nroutes:\n${routes.join("\n")}\n`);
if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
const table = new Router(parsed.config.routes, (name) => name);
const one = parseConfig(`backends: [{url: "http://127.0.0.1:9000"}]`);
if (!one.ok) throw new Error(one.errors.join("\n"));
const catchAll = new Router(one.config.routes, (name) => name);

function request(host: string, target: string, method = "GET") {
  const headers = new Map([["host", host]]);
  return { method, target, headers: { get: (n: string) => headers.get(n) ?? null } };
}

const first = request("x.tenant0.example.test", "/");
const middle = request("Host24.Example.test:8080", "/a/b?c=d");
const last = request("other.test", "/last/page?x=1");
const none = request("other.test", "/nothing/here");
for (const [r, want] of [[first, "s0"], [middle, "s4"], [last, "s0"], [none, undefined]] as const) {
  if (table.match(r)?.service !== want) throw new Error(`bench table matched wrong: ${r.target}`);
}

Deno.bench("route 50-table, first route matches", { group: "routes" }, () => {
  table.match(first);
});
Deno.bench("route 50-table, a middle route (25th)", { group: "routes" }, () => {
  table.match(middle);
});
Deno.bench("route 50-table, the last route", { group: "routes" }, () => {
  table.match(last);
});
Deno.bench("route 50-table, no route matches", { group: "routes" }, () => {
  table.match(none);
});
Deno.bench("route lone catch-all (one service)", { group: "routes", baseline: true }, () => {
  catchAll.match(none);
});
