import assert from "node:assert/strict";
import { parseConfig } from "../../../lib/config/config.ts";
import { Router, strip } from "../../../lib/routing/router.ts";

const SERVICES = `services:
  web: {backends: [{url: "http://127.0.0.1:1"}]}
  api: {backends: [{url: "http://127.0.0.1:2"}]}
  beta: {backends: [{url: "http://127.0.0.1:3"}]}
`;

function routerOf(routes: string): Router<string> {
  const r = parseConfig(`${SERVICES}routes:\n${routes}`);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return new Router(r.config.routes, (name) => name);
}

function req(target: string, host = "x.test", method = "GET", headers: Record<string, string> = {}) {
  const all = new Headers({ host, ...headers });
  return { method, target, headers: { get: (n: string) => all.get(n) } };
}

Deno.test("Router.match() takes the first route that matches, in file order", () => {
  const router = routerOf(`
  - match: {host: api.example.test, path_prefix: /v1}
    service: api
  - match: {host: "*.example.test"}
    service: beta
  - service: web
`);
  const at = (target: string, host?: string) => router.match(req(target, host))?.service;
  assert.equal(at("/v1/users", "API.example.test:8080"), "api");
  assert.equal(at("/v2", "api.example.test"), "beta", "path misses, the wildcard route is next");
  assert.equal(at("/", "www.example.test."), "beta");
  assert.equal(at("/", "example.test"), "web", "*. needs a label before the suffix");
  assert.equal(at("/v1", "other.test"), "web");
  assert.equal(router.match(req("/"))?.route, "routes[2]");
});

Deno.test("Router.match() compares path prefixes by whole segments and ignores the query", () => {
  const router = routerOf(`
  - match: {path_prefix: /v1/}
    service: api
  - match: {path_prefix: /static}
    service: beta
`);
  const at = (target: string) => router.match(req(target))?.service;
  assert.equal(at("/v1"), "api", "a trailing slash in the prefix is not required");
  assert.equal(at("/v1/x"), "api");
  assert.equal(at("/v1?x=1"), "api");
  assert.equal(at("/v10"), undefined, "/v10 is not under /v1");
  assert.equal(at("/static.css"), undefined);
  assert.equal(at("/static/a.css"), "beta");
  assert.equal(at("/x?path=/v1"), undefined, "the query is not the path");
});

Deno.test("Router.match() requires every given method and exact header value", () => {
  const router = routerOf(`
  - match: {methods: [GET, POST], headers: {x-canary: "1"}}
    service: beta
  - match: {methods: [POST]}
    service: api
  - service: web
`);
  const at = (method: string, headers: Record<string, string> = {}) =>
    router.match(req("/", "x.test", method, headers))?.service;
  assert.equal(at("GET", { "X-Canary": "1" }), "beta", "header names are case-insensitive");
  assert.equal(at("GET", { "x-canary": "2" }), "web", "header values are exact");
  assert.equal(at("POST"), "api");
  assert.equal(at("get", { "x-canary": "1" }), "web", "methods are case-sensitive");
});

Deno.test("Router.match() strips a prefix by segment: the backend sees the rest", () => {
  const router = routerOf(`
  - match: {path_prefix: /v1}
    service: api
    strip_prefix: true
  - service: web
`);
  assert.equal(router.match(req("/v1/users?id=3"))?.target, "/users?id=3");
  assert.equal(router.match(req("/v1"))?.target, "/");
  assert.equal(router.match(req("/v1?q"))?.target, "/?q");
  assert.equal(router.match(req("/other"))?.target, undefined, "no strip: the request's own target");
  assert.equal(strip("/v1//x", "/v1"), "//x", "bytes after the prefix are kept as sent");
});

Deno.test("Router.match() splits exactly and smoothly by weight", () => {
  const router = routerOf(`
  - split:
      - {service: web, weight: 90}
      - {service: api, weight: 10}
`);
  const picks = Array.from({ length: 200 }, () => router.match(req("/"))!.service);
  assert.equal(picks.filter((p) => p === "api").length, 20, "exactly 10% over every 100");
  assert.equal(picks.slice(0, 100).filter((p) => p === "api").length, 10);
  let run = 0;
  let longest = 0;
  for (const p of picks) longest = Math.max(longest, run = p === "web" ? run + 1 : 0);
  assert.ok(longest <= 10, `interleaved, not bursty: ${longest} web picks in a row`);
});

Deno.test("Router.match() answers a lone catch-all without reading the request", () => {
  const r = parseConfig(`backends: [{url: "http://127.0.0.1:1"}]`);
  assert.ok(r.ok);
  const router = new Router(r.config.routes, (name) => ({ name }));
  const poison = { method: "GET", target: "/", headers: { get: () => assert.fail("no header is read") } };
  const a = router.match(poison);
  assert.equal(a?.route, "routes[0]");
  assert.equal(a, router.match(poison), "the same answer object: nothing allocated per request");
});
